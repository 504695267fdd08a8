# EdgeConnect, official recipe (knazeri/edge-connect config.yml.example, src/models.py).
model = dict(
    type="EdgeConnect",
    stage="joint",              # joint (MODEL=4) | edge (1) | inpaint (2) | edge_inpaint (3)
    width_mult=1.0,             # official widths: edge G 10,761,089, inpaint G 10,774,595, D 2,762,752 / 2,763,776
    residual_blocks=8,
    sigma=2.0,                  # Canny sigma (SIGMA: 2)
    gan_loss="nsgan",           # GAN_LOSS: nsgan
    loss_weights=dict(edge_adversarial=1.0, feature_matching=10.0, l1=1.0, perceptual=0.1, style=250.0,
                      adversarial=0.1),
    use_vgg_losses=True,        # needs vgg19-dcbb9e9d.pth (vgg_weights= / $BENCH_VGG_WEIGHTS / torch hub cache)
    vgg_weights=None,
    official_weights=None,      # release folder with EdgeModel_gen.pth, InpaintingModel_gen.pth (+ *_dis.pth)
    init_from=None,             # dict(edge=<run ckpt>, inpaint=<run ckpt>) for later stages
    img_size=256,
)
# Adam lr 1e-4, betas (0, 0.9); discriminators lr x D2G_LR (0.1).
optim_wrapper = dict(
    constructor="MultiOptimWrapperConstructor",
    edge_generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.0, 0.9))),
    edge_disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-5, betas=(0.0, 0.9))),
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.0, 0.9))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-5, betas=(0.0, 0.9))),
)
