from alloc._entry import entry

if __name__ == "__main__":
    raise SystemExit(entry())
