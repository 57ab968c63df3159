"""Prediction: the one path from sequences to probabilities, whoever the caller is.

* ``api``: the front door. ``load`` resolves a model name or file once and gives a ``Predictor``; its
  ``predict``, ``predict_iter`` and ``predict_batches`` give ``Prediction`` objects, and ``write`` writes
  them in an output format. The CLI, the web service, Dask, evaluation and the benchmarks all go through it.
* ``batch``: below the front door, how records become probabilities: batches of about ``BATCH_RESIDUES``
  residues, each predicted in one pass on a worker thread while the caller handles the last one.
* ``dask``: the same batches computed on a Dask distributed cluster (``sspred predict --dask-scheduler``).
"""
