"""Retraining the emotion model in the app: the wizard (one module per page), its charts and
tables, and the Models dialog. The logic lives in :mod:`esergui.retrain` (Qt-free)."""
