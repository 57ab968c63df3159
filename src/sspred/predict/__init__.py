"""Prediction: the one path from sequences to probabilities, whoever the caller is.

* ``api``: the front door. ``load`` resolves a model name or file once and gives a ``Predictor``; its
  ``predict``, ``predict_iter`` and ``predict_batches`` give ``Prediction`` objects, and ``write`` writes
  them in an output format. The CLI (locally and on Dask), the web service and the benchmarks predict through
  it; evaluation loads its model through it too.
* ``batch``: below the front door, how records become probabilities: batches of about ``BATCH_RESIDUES``
  residues, each predicted in one pass on a worker thread while the caller handles the last one. Evaluation
  calls it directly, since it scores every head's raw probabilities (a ``Prediction`` keeps the states
  head's, and each extra head reduced to its track).
* ``dask``: the same batches computed on a Dask distributed cluster (``sspred predict --dask-scheduler``).
"""
