"""Human review of a lesson: the controller that turns keys, menus and drags into undoable
edits of the workspace's human layer, its panels (annotation, speakers, compare), the timeline
editor, the table delegates, the undo commands, the code list and the agreement dialog.
``install.install_annotation(window)`` wires it into the main window."""
