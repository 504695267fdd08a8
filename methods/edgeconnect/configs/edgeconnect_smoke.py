_base_ = ["_base_edgeconnect.py"]
# CPU smoke: eighth widths (base 8), preset schedule (64x64, ~20 iterations), no VGG losses.
model = dict(width_mult=0.125, use_vgg_losses=False)
notes = ["EdgeConnect smoke preset: widths x0.125, 64x64, ~20 iterations; VGG19 perceptual (x0.1) and style (x250) "
         "losses disabled (use_vgg_losses=False), so the inpainting model trains with L1 + adversarial only"]
