"""Scenarios side by side: tables with differences, inputs key by key, and an attribution of the
differences to the inputs that changed (`core`); its files (`writer`)."""
