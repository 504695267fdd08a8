# SPG-Net (Song et al., BMVC 2018), re-implementation. Networks and losses follow the facts recorded about the
# public unofficial port (METHODS.md §5: SPADE/pix2pixHD-based); values marked "choice" are ours.
_disc = dict(type="MultiscaleDiscriminator", num_scales=3, base_channels=64, num_layers=3, max_channels=512,
             norm="instance", spectral_norm=True)  # port: num_D 3, n_layers_D 3, 'spectralinstance'
_net = dict(base=64, max_channels=512, num_down=4, num_blocks=9, norm="batch")  # port: 64-128-256-512, 9 ResBlocks, BN
model = dict(
    type="SPGNetInpaintor",
    num_classes=8,            # set by the runner from the dataset (8 OST / toy, 20 Cityscapes; the port used 35)
    img_size=256,             # set by the runner (256 = the port's load/crop size)
    generator=dict(type="SPGNetGenerator", sp=_net, sg=_net),
    disc=_disc,               # image D, conditioned on the completed label map (SPADE-style input image + labels)
    # choice: a label-map D for SP-Net's adversarial term, same design with 2 scales, on (corrupted image, mask, labels)
    disc_seg=dict(type="MultiscaleDiscriminator", num_scales=2, base_channels=64, num_layers=3, max_channels=512,
                  norm="instance", spectral_norm=True),
    test_labels="dataset",    # 'dataset': dataset labels outside the hole at test time (no pretrained segmenter); 'none': zeros
    detach_stage1=True,       # SG-Net's losses do not reach SP-Net (the two nets have their own objectives)
    # port: hinge GAN x1, feature matching x10, VGG x10. choice: CE x1 and label-map GAN x0.1 for SP-Net,
    # whole-image L1 x1 for SG-Net (l1=0 gives the port's objective)
    loss_weights=dict(ce=1.0, seg_adv=0.1, l1=1.0, adv=1.0, fm=10.0, vgg=10.0),
    use_vgg_losses=True,      # needs vgg19-dcbb9e9d.pth (vgg_weights= / $BENCH_VGG_WEIGHTS / torch hub cache)
    vgg_weights=None,
)
# port: Adam lr 2e-4, betas (0.5, 0.999), TTUR -> G lr 1e-4, D lr 4e-4 (METHODS.md §5). Schedule: the preset's
# (paper preset 300,000 iterations at batch 8; the port trains by epochs at batch 4): not the paper's.
optim_wrapper = dict(
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=4e-4, betas=(0.5, 0.999))),
    disc_seg=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=4e-4, betas=(0.5, 0.999))),
)
del _disc, _net
