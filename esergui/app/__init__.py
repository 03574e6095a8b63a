"""ESER Studio's desktop app: the only package that imports Qt (PySide6) and pyqtgraph.

Models stay Qt-free (``esergui.workspace``, ``esergui.lesson``, ``esergui.pipeline`` ...); this
package holds views over them, workers that run them off the GUI thread, and the main window.

Extension points (see ``docs/APP.md``):

* ``MainWindow.undo_stack`` (``QUndoStack``): push annotation commands there; Edit > Undo/Redo
  are wired to it, and ``MainWindow.reload_current_lesson()`` refreshes every view.
* ``MainWindow.selection`` (:class:`esergui.app.shell.selection.SelectionModel`): the one shared
  current-lesson / selected-utterances state that the table, timelines and playback follow.
* ``MainWindow.add_dock(widget, title, area)`` and ``MainWindow.menu("tools")``: new panels and
  menu entries (the annotation and retraining helpers plug in there).
"""
