_base_ = ["_base_pennet.py"]
# CPU smoke: quarter widths (G base 8, D base 16); preset schedule (64x64, ~20 iterations).
model = dict(width_mult=0.25)
notes = ["PEN-Net smoke preset: widths x0.25 (G base 8, D base 16), 64x64, ~20 iterations; not the paper model"]
