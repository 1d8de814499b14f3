"""Defaults of ``truelabel train`` (a module without heavy imports, read by the CLI).

Chosen by leave-one-dataset-out on the real-noise text sets and the injected-noise checks;
see ``BENCHMARKS.md``, "Training under label noise", for the per-dataset table.
"""

from __future__ import annotations

DEFAULT_FEATURIZER = "minilm"
DEFAULT_LOSS = "ce"
DEFAULT_EARLY_STOPPING = False
#: "none": calibrate as if the given labels were true; "estimate": use the noise matrix
#: that confident learning estimates (see BENCHMARKS.md for why "none" is the default)
DEFAULT_LABEL_NOISE = "none"
#: how much of the estimated noise matrix calibration believes (label_noise="estimate")
DEFAULT_NOISE_SCALE = "anchored"
#: how the conformal thresholds use the estimated noise matrix
DEFAULT_NOISE_CORRECTION = "invert"
