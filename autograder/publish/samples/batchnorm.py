"""Typical mistakes in the batchnorm assignment, for the sample class and the tests."""

MISTAKES = {
    "bn-momentum-flipped": [
        ("batchnorm_forward", "(1 - momentum) * running_mean + momentum * mean",
         "momentum * running_mean + (1 - momentum) * mean"),
        ("batchnorm_forward", "(1 - momentum) * running_var \\\n            + momentum * var",
         "momentum * running_var \\\n            + (1 - momentum) * var"),
    ],
    "bn-backward-constant-stats": [
        ("batchnorm_backward",
         "    dvar = inv_std_backward(dr, var, eps)\n    dxc = dxc + variance_backward(dvar, xc)\n"
         "    dx, dmu = center_backward(dxc)\n    dx = dx + mean_backward(dmu, len(dout))\n",
         "    dx = dxc\n"),
    ],
    "bn-unbiased-variance": [
        ("batchnorm_forward", "var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)"),
    ],
    "dropout-not-inverted": [
        ("dropout_forward", "return x * mask / (1 - p), mask", "return x * mask, mask"),
    ],
}
