"""Small Qt building blocks every feature uses: icons, the label palette, and the workers
that run jobs off the GUI thread (``TaskRunner``, ``JobQueue``)."""
