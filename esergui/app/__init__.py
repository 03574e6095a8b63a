"""ESER Studio's desktop app: the only package that imports Qt (PySide6) and pyqtgraph.

Models stay Qt-free (``esergui.workspace``, ``esergui.lesson``, ``esergui.pipeline`` ...); this
package holds views over them, workers that run them off the GUI thread, and the main window.
What the views show is computed without Qt in :mod:`esergui.review` and :mod:`esergui.audio`.

One package per feature: ``shell`` (the main window and its controllers, start-up), ``common``
(workers, icons, palette), ``timeline`` (overview, detail view, table), ``playback``, ``library``
(lessons, analysis queue), ``summary``, ``annotation``, ``recording``, ``retrain``.

Extension points (see ``docs/APP.md``):

* ``MainWindow.undo_stack`` (``QUndoStack``): push annotation commands there; Edit > Undo/Redo
  are wired to it, and ``MainWindow.reload_current_lesson()`` refreshes every view.
* ``MainWindow.selection`` (:class:`esergui.app.shell.selection.SelectionModel`): the one shared
  current-lesson / selected-utterances state that the table, timelines and playback follow.
* ``MainWindow.add_dock(widget, title, area)`` and ``MainWindow.menu("tools")``: new panels and
  menu entries (the annotation and retraining helpers plug in there).
"""
