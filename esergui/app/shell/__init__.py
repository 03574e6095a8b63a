"""The main window as a shell: it builds the layout and composes the controllers (workspace,
lessons, analysis queue, playback, exports, device status), the menus and toolbar (``actions``),
the shared selection, the dialogs and the entry point (``main.run_app``)."""
