# DeepFill v2 / GatedConv, official recipe (JiahuiYu/generative_inpainting v2: inpaint.yml, train.py,
# inpaint_model.py; METHODS.md §2.3):
#   256x256, batch_size 16, l1_loss_alpha 1 (whole-image L1 on both stages), gan_loss_alpha 1 (SN-PatchGAN,
#   hinge, D input [image, mask]), one Adam(lr 1e-4, betas (0.5, 0.999)) for G and D, 1 D step per G step,
#   training mask = one random box U brush strokes.
# Iterations: the official max_iters is 1e8 ("train until stopped"; Places2 ~5 days on one GPU); we use
# mmagic's DeepFill v2 Places schedule, 1,000,000 iterations at batch 16 (mmagic: 2/GPU x 8 GPUs).
model = dict(
    type="GatedConvInpaintor",
    cnum=48,                 # generator 4,052,478 parameters (official)
    disc_cnum=64,            # SN-PatchGAN 5,946,816 parameters (official)
    padding="same_tf",       # TF 'SAME' zero padding (inpaint.yml padding: 'SAME')
    l1_weight=1.0,           # l1_loss_alpha
    gan_weight=1.0,          # gan_loss_alpha
    disc_with_mask=True,     # gan_with_mask
    img_size=256,            # filled by the runner from the preset; unused by the network
)
batch_size = 16
train_iters = 1_000_000
checkpoint_interval = 4_000  # train_spe (the official snapshot/summary period)
train_masks = dict(type="box_freeform")
optim_wrapper = dict(
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
)
