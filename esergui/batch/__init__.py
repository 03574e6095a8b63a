"""Batch analysis of lesson archives, from a laptop to a cluster (Qt-free, headless).

* :mod:`~esergui.batch.inputs`: files, folders (recursive) and manifest CSVs -> lessons;
* :mod:`~esergui.batch.plan`: content hashes, lesson folders, what ``--resume`` skips;
* :mod:`~esergui.batch.provenance`: program version, model hash, settings hash, time;
* :mod:`~esergui.batch.worker`: one lesson in one worker process (files + a small row back);
* :mod:`~esergui.batch.engines`: local worker processes or a Dask cluster;
* :mod:`~esergui.batch.combine`: ``all_summaries.csv``, ``all_utterances.parquet``, workspace;
* :mod:`~esergui.batch.run`: the whole batch (``esergui batch`` is its command line);
* :mod:`~esergui.batch.trends`: per teacher or class over lesson dates (``esergui trends``).

This package file imports nothing heavy: worker processes import it before they set their
thread limits. See ``docs/BATCH.md``.
"""
