"""How large Adam's steps are under a constant gradient, with and without bias correction.

With g_t = g for every t and m_0 = v_0 = 0, the moments are geometric sums:

    m_t = (1 - β1)·Σ_{k<t} β1^k·g = (1 - β1^t)·g        v_t = (1 - β2^t)·g²

so, ε aside, the step |θ_t - θ_{t-1}| / η is

    both corrected:  1                         neither:     (1 - β1^t) / √(1 - β2^t)
    m only:          1 / √(1 - β2^t)           v only:       1 - β1^t
"""
import numpy as np


def adam_bias_factor(t, betas=(0.9, 0.999), correct_m=True, correct_v=True):
    beta1, beta2 = betas
    t = np.asarray(t, dtype=float)
    m = 1.0 if correct_m else 1 - beta1 ** t
    v = 1.0 if correct_v else 1 - beta2 ** t
    return m / np.sqrt(v) * np.ones_like(t)
