"""Named GANs: `zoo.create(name, **options)`, `zoo.available()` and `zoo.describe(name)`.

Each preset is its paper's model, as the paper (or the reference code it names) built and trained it
on MNIST or its smallest data: the networks, the optimizer, the batch size. Every preset is the same
builder with different defaults, so options compose with any of them: a `dcgan` with minibatch
discrimination is `create("dcgan", minibatch_kernels=100)`. The zoo's own tuned combinations behind the
shipped 28x28 models are presets too, named for what they add (`dcgan_mbd_code_ema`).
How each preset compares with its paper's published number: benchmarks/papers.md.
"""

import inspect

from zoo import networks
from zoo.cyclegan import CycleGAN
from zoo.gan import GAN
from zoo.pix2pix import Pix2Pix

BACKBONES = ("mlp", "dcgan", "maxout", "improved_gan", "infogan", "lsgan", "acgan", "wgan_gp")

# pylearn2's SGD as Goodfellow et al.'s MNIST configuration (goodfeli/adversarial, mnist.yaml) sets it:
# lr 0.1 divided by 1.000004 every update down to 1e-6, momentum 0.5 rising to 0.7 between epochs 1 and
# 250, i.e. updates 500 and 125,000 at 50,000 images in batches of 100 (counted in updates, so another
# batch size or dataset moves the ramp's epochs).
GOODFELLOW_SGD = dict(
    name="sgd", learning_rate=0.1, decay_factor=1.000004, min_learning_rate=1e-6, momentum=0.5, final_momentum=0.7,
    momentum_start=500, momentum_saturate=125_000,
)
# Goodfellow et al.'s MNIST networks: G 100-d noise -> ReLU 1200 -> ReLU 1200 -> sigmoid 784, weights
# U(-0.05, 0.05), output bias from the pixel marginals; D maxout 240x5 -> maxout 240x5 -> sigmoid, weights
# U(-0.005, 0.005), dropout keep 0.8 on the pixels and 0.5 on the hidden layers.
# Their code (AdversaryCost2) updates both players at once from one forward pass (update="fused": G's gradient
# through the same dropout masks) and halves D's cross-entropy; its noise is U(-sqrt 3, sqrt 3).
GOODFELLOW_MLP = dict(
    g_units=(1200, 1200), d_units=(240, 240), d_pieces=(5, 5), input_dropout=0.2, dropout=0.5, g_init_range=0.05,
    d_init_range=0.005, noise_range=(-3**0.5, 3**0.5), output_bias_from_data=True, update="fused", d_loss_scale=0.5,
    default_optimizer=GOODFELLOW_SGD,
)
# What the zoo adds to a 16-filter DCGAN (with the earlier generator's stride-1 layer) for its shipped 28x28
# models: minibatch discrimination, InfoGAN's 10-valued code and the generator's moving average.
DCGAN_ADDITIONS = dict(filters=16, stride1_layers=1, minibatch_kernels=32, latent_code=10, ema_decay=0.999)

# A preset: its paper, what it builds, the paper's published result and ours (benchmarks/papers.md), and its
# options. A nested dict under a backbone's name holds options that apply only on that backbone, so
# `create("vanilla", backbone="mlp")` does not inherit the maxout networks' settings. Backbone "auto"
# (`preset_backbone`): the paper's networks for images, the zoo's MLP for vectors.
PRESETS = {
    "vanilla": dict(
        paper="Goodfellow et al. 2014",
        summary="MLP G, maxout D with dropout, SGD",
        builds="MLP G (ReLU 1200-1200, sigmoid), maxout D (240x5, 240x5) with dropout, SGD + momentum, batch 100; "
        "on vectors an MLP with LeakyReLU and dropout 0.3",
        paper_result="Parzen log-likelihood 225 ± 2 on the MNIST test set (Table 1)",
        our_result="175.4 ± 2.4 at epoch 210 of a run stopped at 235 (benchmarks/papers.md)",
        image_backbone="maxout",
        image_split="train[0:50000]",
        options=dict(
            backbone="auto", maxout=GOODFELLOW_MLP, mlp=dict(activation="leaky_relu", dropout=0.3),
        ),
    ),
    "conditional": dict(
        paper="Mirza & Osindero 2014",
        summary="label-conditioned MLP G, maxout D, SGD",
        builds="G: z -> ReLU 200 and one-hot y -> ReLU 1000, joined -> ReLU 1200 -> sigmoid; D: x -> maxout 240x5 and "
        "y -> maxout 50x5, joined -> maxout 240x4; dropout 0.5 (and 0.2 on D's pixels, as Goodfellow et al.'s "
        "configuration; G samples with its dropout on: its variety comes from the masks); SGD + momentum, batch 100",
        paper_result="Parzen log-likelihood 132 ± 1.8 on the MNIST test set (Table 1)",
        our_result="140.2 ± 1.6 at epoch 60 (benchmarks/papers.md)",
        image_split="train[0:50000]",
        options=dict(
            backbone="maxout",
            num_classes=10,
            maxout=dict(
                g_units=(1200,), g_branch_units=(200, 1000), g_dropout=0.5, d_units=(240,), d_pieces=(4,),
                d_branch_units=(240, 50), d_branch_pieces=(5, 5), input_dropout=0.2, dropout=0.5, g_init_range=0.05,
                d_init_range=0.005, noise_range=(0.0, 1.0), output_bias_from_data=True, update="fused",
                d_loss_scale=0.5, sampling_dropout=True,
                default_optimizer={**GOODFELLOW_SGD, "decay_factor": 1.00004},
            ),
        ),
    ),
    "dcgan": dict(
        paper="Radford et al. 2015",
        summary="all-convolutional, BatchNorm, 128 filters, Adam",
        builds="strided convolutions only, BatchNorm (dcgan_code's: epsilon 1e-8, gains from N(1, 0.02)), ReLU in G "
        "and LeakyReLU(0.2) in D, 128 filters (G 256-128 at 28x28; 1024-512-256-128 at 64x64), N(0, 0.02) weights, "
        "Adam 2e-4 beta_1 0.5, batch 128",
        paper_result=None,
        our_result="MNIST at the 4,212-step budget: classifier score 7.14, Frechet distance 22.9 (with Keras's BatchNorm "
        "epsilon before: 7.36, 19.5; benchmarks/papers.md)",
        # BatchNorm as dcgan_code's lib/ops.py (epsilon 1e-8) with its gains from N(1, 0.02) (train_uncond_dcgan.py).
        options=dict(
            backbone="dcgan", dcgan=dict(filters=128, stride1_layers=0, batch_norm_config=dict(epsilon=1e-8, gamma_stddev=0.02))
        ),
    ),
    "minibatch": dict(
        paper="Salimans et al. 2016",
        summary="their MNIST MLPs + minibatch discrimination",
        builds="their MNIST networks: G softplus 500-500 with BatchNorm, sigmoid; D ReLU 1000-500-250-250-250 with "
        "Gaussian noise, minibatch discrimination B=100, C=5, their weight-normalised layers initialised from data; "
        "Adam 3e-4 beta_1 0.5 (their minibatch scripts), batch 100; feature_matching=True is their other option; on "
        "vectors the zoo's MLP",
        paper_result=None,
        our_result="MNIST at the 6,000-step budget (10 of their script's 300 epochs): classifier score 5.24, Frechet "
        "distance 89.4 (with plain Dense layers before: 6.08, 63.6; benchmarks/papers.md)",
        image_backbone="improved_gan",
        options=dict(
            backbone="auto", minibatch_kernels=100, minibatch_dim=5,
            # Adam 3e-4 as their minibatch-discrimination scripts: at their MNIST script's 3e-3 this D wins within an
            # epoch (docs/models.md). Their nn.py: weight-normalised layers initialised from data, BatchNorm with
            # epsilon 1e-6 and averages of decay 0.9.
            improved_gan=dict(weight_norm=True, batch_norm_config=dict(epsilon=1e-6, momentum=0.9),
                              default_optimizer=dict(name="adam", learning_rate=3e-4, beta_1=0.5)),
        ),
    ),
    "acgan": dict(
        paper="Odena et al. 2017",
        summary="conditional conv GAN with an auxiliary classifier",
        builds="the Keras AC-GAN MNIST example's networks: G label embedding x z -> 3x3x384 -> 192-96-1 "
        "transposed convolutions; D 32-64-128-256 convolutions with dropout 0.3, real/fake and class heads, its "
        "classifier learning on real images only; Adam 2e-4 beta_1 0.5, batch 100",
        paper_result=None,
        our_result="MNIST at the 6,000-step budget: classifier score 9.94, Frechet distance 9.32, 99.96% of samples of the class "
        "asked for (benchmarks/papers.md)",
        # fake_class_weight=0 as the Keras example: with Odena et al.'s class term on the fakes, each class collapsed
        # to one drawing (docs/models.md). The example's soft targets (D 0.9 / 0.1, G 0.9) and G's double batch are
        # not the paper's and not taken.
        options=dict(backbone="acgan", num_classes=10, conditioning="acgan", fake_class_weight=0.0),
    ),
    "infogan": dict(
        paper="Chen et al. 2016",
        summary="conv GAN + categorical and continuous codes",
        builds="their MNIST networks: G FC 1024-7x7x128, 4x4 transposed convolutions 64-1; D 64-128 convolutions, FC "
        "1024, Q FC 128; their BatchNorm (epsilon 1e-5); a 10-valued categorical and two U(-1, 1) continuous codes "
        "with 62 noise dimensions, lambda 1; Adam D 2e-4, G 1e-3, beta_1 0.5, batch 128, on train[5000:60000]",
        paper_result="categorical code vs. digit class: 5% error (section 7.2)",
        # Their code trains on TensorFlow's MNIST tutorial split, which sets the first 5,000 images aside.
        image_split="train[5000:60000]",
        our_result="28.1% at the paper's 5,000 updates, seed 0; over seeds 0-4 13.8% to 28.1%, median 25.4%, "
        "best 13.8% (benchmarks/papers.md)",
        options=dict(
            backbone="infogan", latent_dim=74, latent_code=10, continuous_codes=2,
            # openai/InfoGAN's BatchNorm (misc/custom_ops.py): epsilon 1e-5, averages with decay 0.9, gamma from N(1, 0.02).
            batch_norm_config=dict(epsilon=1e-5, momentum=0.9, gamma_stddev=0.02),
            default_optimizer=dict(
                name="adam", learning_rate=2e-4, d_learning_rate=2e-4, g_learning_rate=1e-3, beta_1=0.5, epsilon=1e-8
            ),
        ),
    ),
    "wgan": dict(
        paper="Arjovsky et al. 2017",
        summary="Wasserstein critic, weight clipping, RMSprop",
        builds="critic and generator of Gulrajani et al.'s MNIST code in its WGAN mode (BatchNorm, epsilon 1e-5; "
        "tflib's He-uniform convolutions), weight clipping 0.01, RMSprop 5e-5 as their TensorFlow 1 code ran it "
        "(rho 0.9, mean square from ones), 5 critic steps, batch 50",
        paper_result="the critic's Wasserstein estimate falls as the samples improve (Figures 3-4)",
        our_result="it does: Spearman 0.99 between the estimate and the Frechet distance over its 4,800-step budget "
        "(0.99 on batch statistics too; 0.86 before it took their code's BatchNorm epsilon, RMSprop and "
        "initialisation; benchmarks/papers.md)",
        options=dict(
            backbone="wgan_gp", loss="wasserstein", clip_value=0.01, batch_norm=True, prior="normal", latent_dim=128,
            # tflib's BatchNorm epsilon; tf.train.RMSPropOptimizer(5e-5) at its defaults, as their code trained.
            batch_norm_config=dict(epsilon=1e-5),
            default_optimizer=dict(name="rmsprop", learning_rate=5e-5, rho=0.9, epsilon=1e-10, mean_square_from_ones=True),
        ),
    ),
    "wgan_gp": dict(
        paper="Gulrajani et al. 2017",
        summary="Wasserstein critic, gradient penalty",
        builds="their MNIST networks (gan_mnist.py): G 128-d normal z -> 4x4x256 -> 128 -> 64 -> sigmoid; critic "
        "64-128-256 5x5 convolutions; tflib's He-uniform convolutions; gradient penalty 10, 5 critic steps, Adam 1e-4 "
        "(0.5, 0.9), batch 50",
        paper_result="the critic's negative loss tracks sample quality (section 5, 'meaningful loss curves')",
        our_result="it does: Spearman 0.97 between the critic's estimate and the Frechet distance over its 4,800-step budget "
        "(0.96 before it took tflib's initialisation; benchmarks/papers.md)",
        options=dict(
            backbone="wgan_gp", loss="wasserstein_gp", gp_weight=10.0, prior="normal", latent_dim=128,
            default_optimizer=dict(name="adam", learning_rate=1e-4, beta_1=0.5, beta_2=0.9, epsilon=1e-8),
        ),
    ),
    "lsgan": dict(
        paper="Mao et al. 2017",
        summary="least-squares losses",
        builds="least-squares losses (a=0, b=c=1); images: their smallest networks (mcgan.py, unconditional): G "
        "1024-d z -> FC 7x7x128 -> 5x5 transposed convolutions 128-1, sigmoid; D 5x5 convolutions 64-128 (mcgan.py's "
        "257 and 320 are 1 and 64 plus its 256-d label projection; without a label, the 64-128 of DCGAN-tensorflow, "
        "which it adapts), FC 1024; "
        "Adam 2e-4 beta_1 0.5, batch 64; vectors: their Gaussian-mixture MLPs (tanh 128-128, orthogonal weights, z 256 "
        "from N(0, 1), Adam D 1e-4, G 1e-3, simultaneous updates)",
        paper_result="on a Gaussian mixture, the modes covered where the regular GAN collapses (Figure 5)",
        our_result="ring of 8, 10 seeds: collapses in 1 of 10 runs against the regular GAN's 5 of 10, but its blobs sit off "
        "the modes: all 8 captured in 2 of 10 runs against 4 (benchmarks/papers.md)",
        image_backbone="lsgan",
        options=dict(
            backbone="auto", loss="least_squares",
            # Their ops.py's BatchNorm (epsilon 1e-5, decay 0.9) and TensorFlow's Adam epsilon.
            lsgan=dict(latent_dim=1024, batch_norm_config=dict(epsilon=1e-5, momentum=0.9),
                       default_optimizer=dict(name="adam", learning_rate=2e-4, beta_1=0.5, epsilon=1e-8)),
            # Their mixture code (stability_comparison/mixture_gaussian/ls.py): N(0, 1) noise, orthogonal weights
            # with gain 1.4, and both players' updates from one forward pass (one session run), i.e. "fused".
            mlp=dict(g_units=(128, 128), d_units=(128, 128), activation="tanh", latent_dim=256, prior="normal",
                     update="fused", mlp_initializer=dict(class_name="Orthogonal", config=dict(gain=1.4)),
                     default_optimizer=dict(name="adam", d_learning_rate=1e-4, g_learning_rate=1e-3,
                                            learning_rate=1e-3, beta_1=0.5)),
        ),
    ),
    "dcgan_mbd_code_ema": dict(
        paper="the zoo's tuned DCGAN",
        summary="dcgan (16 filters) + minibatch disc. + code + EMA",
        builds="a 16-filter DCGAN + minibatch discrimination (B=32) + InfoGAN's 10-valued code + the generator's "
        "moving average (0.999): the shipped dcgan_mnist and dcgan_fashion_mnist",
        paper_result=None,
        options=dict(backbone="dcgan", dcgan=DCGAN_ADDITIONS),
    ),
    "conditional_dcgan_mbd": dict(
        paper="the zoo's tuned conditional DCGAN",
        summary="conditional dcgan (16 filters) + minibatch disc.",
        builds="a 16-filter class-conditional DCGAN (label as an extra input channel of D) + minibatch discrimination "
        "(B=32): the shipped conditional_mnist and conditional_fashion_mnist",
        paper_result=None,
        options=dict(backbone="dcgan", num_classes=10, dcgan=dict(filters=16, stride1_layers=1, minibatch_kernels=32)),
    ),
}

def available():
    """The preset names `create` accepts (`describe(name)` says what each builds).

    Returns:
        A sorted list of preset names (str), e.g. ["acgan", "conditional", "dcgan", ...].
    """
    return sorted(PRESETS)


DEFAULT_DATA_SHAPE = (28, 28, 1)


def build_gan(
    *,
    backbone="mlp",
    data_shape=DEFAULT_DATA_SHAPE,
    latent_dim=100,
    num_classes=None,
    prior="uniform",
    d_steps=None,
    loss=None,
    label_smoothing=0.0,
    feature_matching=False,
    minibatch_kernels=0,
    minibatch_dim=5,
    g_units=None,
    d_units=None,
    activation="relu",
    output_activation=None,
    mlp_initializer="glorot_uniform",
    dropout=None,
    pack=1,
    filters=64,
    stride1_layers=0,
    seed=None,
    update="alternating",
    spectral_norm=False,
    gp_weight=10.0,
    r1_weight=0.0,
    ema_decay=None,
    diffaugment=None,
    conditioning=None,
    fake_class_weight=1.0,
    generator_loss=None,
    latent_code=0,
    code_weight=1.0,
    continuous_codes=0,
    d_pieces=(5, 5),
    g_branch_units=None,
    d_branch_units=None,
    d_branch_pieces=None,
    input_dropout=0.2,
    g_dropout=0.0,
    g_init_range=0.05,
    d_init_range=0.005,
    noise_range=None,
    batch_norm=False,
    batch_norm_config=None,
    weight_norm=False,
    d_loss_scale=1.0,
    sampling_dropout=False,
    clip_value=None,
    output_bias_from_data=False,
    default_optimizer=None,
    preset=None,
):
    """Build an uncompiled GAN.

    Backbones (the networks of G and D):
    - "mlp": the zoo's MLPs. `g_units`, `d_units` (default 256-512-1024 / 1024-512-256), `activation` (any
      Keras activation, e.g. "leaky_relu"), `output_activation` (default tanh for images, linear for
      vectors), `dropout` (after each of D's hidden layers), `pack` (PacGAN: D judges `pack` samples at
      once; the batch size must be a multiple of it).
    - "dcgan": Radford et al.'s convolutional networks; `filters` (width of D's first layer and G's last
      hidden layer), `stride1_layers` (stride-1 layers after G's projection; the paper has none).
    - "maxout": Goodfellow et al.'s / Mirza & Osindero's MLPs (see `networks.maxout_generator` and
      `maxout_discriminator`): `g_units`, `d_units`, `d_pieces`, `g_branch_units`, `d_branch_units`,
      `d_branch_pieces` (the conditional models' label branches), `input_dropout`, `dropout`, `g_dropout`,
      `g_init_range`, `d_init_range`, `noise_range`.
    - "improved_gan": Salimans et al.'s MNIST networks; `g_units`, `d_units`.
    - "infogan": Chen et al.'s MNIST networks, with `latent_code` and `continuous_codes`.
    - "lsgan": Mao et al.'s smallest networks (their 28x28 mcgan.py without the label).
    - "acgan": the Keras AC-GAN example's networks (conditional, conditioning "acgan"); `dropout`.
    - "wgan_gp": Gulrajani et al.'s MNIST networks; `filters`, `batch_norm` (their WGAN mode).
    `minibatch_kernels` (B) and `minibatch_dim` (C) switch on minibatch discrimination where the backbone
    has it (not "acgan", "wgan_gp"); `feature_matching` needs nothing else. `update` picks how a training
    step spends its forward passes (see `zoo.GAN`).

    Stabilisers and training: `loss` ("non_saturating", "minimax", "hinge", "wasserstein" (with
    `clip_value`), "wasserstein_gp", "least_squares"; `generator_loss` is its older name), `gp_weight`
    (WGAN-GP; its DCGAN critic uses LayerNorm instead of BatchNorm), `r1_weight` (gamma), `spectral_norm`
    (D's dense and convolution layers of "mlp" and "dcgan"), `ema_decay` (averaged generator),
    `diffaugment` (policy such as "color,translation,cutout"), `conditioning` ("concat", "projection" or
    "acgan"; conditional models only), `latent_code` (InfoGAN's categorical code with K values, read
    from z; unconditional models only), `continuous_codes`, their `code_weight` (lambda), `d_loss_scale`,
    `output_bias_from_data` and `default_optimizer` (see `zoo.GAN`).

    Args:
        backbone: one of `BACKBONES`: the architecture of G and D.
        data_shape: shape of one sample, (H, W, C) for images or (D,) for vectors.
        latent_dim: size of the noise vector z (positive int).
        num_classes: number of classes (>= 2) for a conditional GAN; None for unconditional.
        prior: distribution of z, "uniform" (U(-1, 1)) or "normal" (N(0, 1)).
        d_steps: discriminator updates per step (k); None: 5 for the Wasserstein losses, else 1.
        loss: the loss pair's name in `zoo.LOSSES`; None for "non_saturating".
        label_smoothing: one-sided smoothing s in [0, 1) of D's real target (cross-entropy losses only).
        feature_matching: if True, G minimises the feature matching loss on D's "features" layer.
        minibatch_kernels: B, minibatch discrimination kernels in D (0: off).
        minibatch_dim: C, the dimension of each minibatch kernel.
        g_units, d_units: hidden widths of G and D ("mlp", "maxout", "improved_gan"); None: the backbone's.
        activation, output_activation, pack: "mlp" options (above).
        mlp_initializer: the "mlp" networks' Dense kernel initializer, any Keras identifier (a name, or a
            {"class_name", "config"} dict such as Mao et al.'s Orthogonal with gain 1.4).
        dropout: D's dropout rate ("mlp" after each hidden layer, "maxout" after each maxout layer, "acgan"
            after each convolution); None: the backbone's (0, 0.5, 0.3).
        filters: "dcgan" and "wgan_gp" width (above).
        stride1_layers: "dcgan" generator's stride-1 layers after the projection.
        seed: int (or None) for the GAN's `keras.random.SeedGenerator`.
        update: "alternating", "reuse_fake" or "fused" (see `zoo.GAN`).
        spectral_norm: if True, spectral normalisation on D's dense and convolution layers.
        gp_weight: WGAN-GP penalty weight (used with loss="wasserstein_gp"), non-negative.
        r1_weight: R1 penalty weight gamma, non-negative (0: off).
        ema_decay: decay in [0, 1) of the averaged generator; None or 0: off.
        diffaugment: DiffAugment policy string (images only); None: off.
        conditioning: "concat", "projection" or "acgan" for conditional models; None for the
            default ("acgan" on the "mlp" and "acgan" backbones, "concat" on the others).
        fake_class_weight: AC-GAN: weight of the class term on the fakes in D's loss (see `zoo.GAN`).
        generator_loss: older name for `loss` ("non_saturating" or "minimax" only).
        latent_code: K, the values of InfoGAN's categorical code (Chen et al. 2016), 0 for off;
            unconditional models only, 2 <= K <= latent_dim (see `zoo.LatentCode`).
        code_weight: lambda, the weight of the code terms in both players' losses.
        continuous_codes: InfoGAN's continuous codes after the categorical one ("infogan" backbone).
        d_pieces, g_branch_units, d_branch_units, d_branch_pieces, input_dropout, g_dropout, g_init_range,
            d_init_range, noise_range: "maxout" options (see `networks.maxout_generator`).
        batch_norm: BatchNorm in the "wgan_gp" networks (Gulrajani et al.'s WGAN mode).
        batch_norm_config: the BatchNorm layers' `epsilon`, `momentum` and `gamma_stddev` (gamma from
            N(1, gamma_stddev)) as a paper's code set them ("dcgan", "infogan", "lsgan", "wgan_gp",
            "improved_gan"; see `networks.batch_norm`); None: Keras's (epsilon 1e-3, momentum 0.99, gamma ones).
        weight_norm: "improved_gan": their weight-normalised layers with the data-based initialisation that
            `GAN.fit` runs (see `networks.improved_gan_discriminator`).
        d_loss_scale: factor on D's adversarial loss (see `zoo.GAN`).
        sampling_dropout: sample with G's dropout on (see `zoo.GAN`; the `conditional` preset's G needs it).
        clip_value: WGAN's weight clipping c (see `zoo.GAN`); None: off.
        output_bias_from_data: start G's sigmoid bias at the data's pixel marginals (see `zoo.GAN`).
        default_optimizer: the optimizer spec `compile()` uses (see `zoo.optimizers.make`); None: Adam 2e-4, 0.5.
        preset: the preset name recorded in the model's config; set by `create`.
    """
    options = dict(locals())  # every argument, for the backbone's builders
    if backbone not in BACKBONES:
        raise ValueError(f"Unknown backbone {backbone!r}; choose one of {BACKBONES}.")
    data_shape = tuple(int(d) for d in data_shape)
    if isinstance(latent_dim, bool) or int(latent_dim) != latent_dim or int(latent_dim) < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}.")
    latent_dim = int(latent_dim)
    if not data_shape or min(data_shape) < 1:
        raise ValueError(f"data_shape must hold positive sizes, got {data_shape}.")
    if num_classes is not None and int(num_classes) < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}.")
    pack = int(pack)
    if pack < 1:
        raise ValueError(f"pack must be a positive integer, got {pack}.")
    if pack > 1 and (backbone != "mlp" or num_classes is not None):
        raise ValueError("pack (PacGAN) is implemented for unconditional MLP discriminators only.")
    latent_code = int(latent_code or 0)
    continuous_codes = int(continuous_codes or 0)
    if latent_code and (num_classes is not None or pack > 1 or not 2 <= latent_code + continuous_codes <= latent_dim):
        raise ValueError(
            f"latent_code (InfoGAN) needs an unconditional model without pack and 2 <= K + continuous codes <= "
            f"latent_dim={latent_dim}; got latent_code={latent_code}, continuous_codes={continuous_codes}, "
            f"num_classes={num_classes}, pack={pack}."
        )
    if continuous_codes and backbone != "infogan":
        raise ValueError("continuous_codes are implemented on the 'infogan' backbone.")
    if backbone in ("acgan",) and num_classes is None:
        raise ValueError("the 'acgan' backbone is conditional: give num_classes.")
    if backbone in ("improved_gan", "infogan", "lsgan", "wgan_gp") and num_classes is not None:
        raise ValueError(f"the {backbone!r} networks are unconditional; use 'maxout', 'dcgan', 'acgan' or 'mlp'.")
    if weight_norm and backbone != "improved_gan":
        raise ValueError(f"weight_norm is implemented on the 'improved_gan' networks, not {backbone!r}.")
    if backbone in ("acgan", "wgan_gp") and minibatch_kernels:
        raise ValueError(f"minibatch discrimination is not implemented on the {backbone!r} networks.")
    if latent_code and backbone not in ("mlp", "dcgan", "infogan"):
        raise ValueError("latent_code (InfoGAN) is implemented on the 'mlp', 'dcgan' and 'infogan' networks.")
    if conditioning is None and num_classes is not None and backbone in ("mlp", "acgan"):
        # With the label only concatenated to its input, an MLP D learns to ignore it (10% conditional
        # accuracy on MNIST); an auxiliary classifier (Odena et al. 2017) makes the class part of D's task.
        conditioning = "acgan"
    conditioning = networks.checked_conditioning(conditioning, num_classes)
    if backbone == "acgan" and conditioning != "acgan" or backbone == "maxout" and conditioning not in (None, "concat"):
        raise ValueError(f"the {backbone!r} networks condition D by {'acgan' if backbone == 'acgan' else 'concat'} only.")
    generator, discriminator = _networks(
        backbone, data_shape, latent_dim, num_classes, conditioning, latent_code, continuous_codes, options
    )
    return GAN(
        generator,
        discriminator,
        num_classes=num_classes,
        prior=prior,
        d_steps=d_steps,
        loss=loss,
        generator_loss=generator_loss,
        label_smoothing=label_smoothing,
        feature_matching=feature_matching,
        preset=preset,
        seed=seed,
        update=update,
        gp_weight=gp_weight,
        r1_weight=r1_weight,
        ema_decay=ema_decay,
        diffaugment=diffaugment,
        conditioning=conditioning,
        fake_class_weight=fake_class_weight,
        latent_code=latent_code,
        code_weight=code_weight,
        continuous_codes=continuous_codes,
        d_loss_scale=d_loss_scale,
        sampling_dropout=sampling_dropout,
        clip_value=clip_value,
        output_bias_from_data=output_bias_from_data,
        default_optimizer=default_optimizer,
    )


def _networks(backbone, data_shape, latent_dim, num_classes, conditioning, latent_code, continuous_codes, o):
    """(generator, discriminator) of `backbone`; `o` holds `build_gan`'s other options."""
    minibatch = dict(minibatch_kernels=o["minibatch_kernels"], minibatch_dim=o["minibatch_dim"])
    if backbone == "mlp":
        output_activation = o["output_activation"] or ("tanh" if len(data_shape) > 1 else "linear")
        generator = networks.mlp_generator(
            data_shape, latent_dim, o["g_units"] or (256, 512, 1024), o["activation"], output_activation, num_classes,
            latent_code=latent_code, kernel_initializer=o["mlp_initializer"],
        )
        discriminator = networks.mlp_discriminator(
            data_shape, o["d_units"] or (1024, 512, 256), o["activation"], num_classes, o["minibatch_kernels"],
            o["minibatch_dim"], o["dropout"] or 0.0, o["pack"], conditioning, o["spectral_norm"], latent_code=latent_code,
            kernel_initializer=o["mlp_initializer"],
        )
    elif backbone == "dcgan":
        generator = networks.dcgan_generator(
            data_shape, latent_dim, o["filters"], num_classes, latent_code=latent_code, stride1_layers=o["stride1_layers"],
            batch_norm_config=o["batch_norm_config"],
        )
        discriminator = networks.dcgan_discriminator(
            data_shape, o["filters"], num_classes, o["minibatch_kernels"], o["minibatch_dim"], conditioning,
            o["spectral_norm"], normalization="layer" if o["loss"] == "wasserstein_gp" else "batch", latent_code=latent_code,
            batch_norm_config=o["batch_norm_config"],
        )
    elif backbone == "maxout":
        generator = networks.maxout_generator(
            data_shape, latent_dim, o["g_units"] or (1200, 1200), num_classes, o["g_branch_units"], o["g_dropout"],
            o["g_init_range"], o["noise_range"],
        )
        discriminator = networks.maxout_discriminator(
            data_shape, o["d_units"] or (240, 240), o["d_pieces"], num_classes, o["d_branch_units"], o["d_branch_pieces"],
            o["input_dropout"], 0.5 if o["dropout"] is None else o["dropout"], o["d_init_range"], **minibatch,
        )
    elif backbone == "improved_gan":
        generator = networks.improved_gan_generator(data_shape, latent_dim, o["g_units"] or (500, 500), o["weight_norm"],
                                                    o["batch_norm_config"])
        discriminator = networks.improved_gan_discriminator(
            data_shape, o["d_units"] or (1000, 500, 250, 250, 250), weight_norm=o["weight_norm"], **minibatch
        )
    elif backbone == "infogan":
        generator = networks.conv_fc_generator(
            data_shape, latent_dim, latent_code=latent_code, batch_norm_config=o["batch_norm_config"]
        )
        discriminator = networks.conv_fc_discriminator(
            data_shape, code_units=latent_code + continuous_codes, batch_norm_config=o["batch_norm_config"],
            truncated_conv_init=True, **minibatch,
        )
    elif backbone == "lsgan":
        generator = networks.conv_fc_generator(
            data_shape, latent_dim, dense_units=(), filters=(128,), kernel_size=5, batch_norm_config=o["batch_norm_config"]
        )
        discriminator = networks.conv_fc_discriminator(
            data_shape, kernel_size=5, negative_slope=0.2, batch_norm_config=o["batch_norm_config"],
            truncated_conv_init=True, **minibatch,
        )
    elif backbone == "acgan":
        generator = networks.acgan_generator(data_shape, latent_dim, num_classes)
        discriminator = networks.acgan_discriminator(data_shape, num_classes, 0.3 if o["dropout"] is None else o["dropout"])
    else:  # "wgan_gp"
        generator = networks.wgan_gp_generator(data_shape, latent_dim, o["filters"], o["batch_norm"], o["batch_norm_config"])
        discriminator = networks.wgan_gp_discriminator(data_shape, o["filters"], o["batch_norm"], o["batch_norm_config"])
    return generator, discriminator


OPTIONS = tuple(p for p in inspect.signature(build_gan).parameters if p != "preset")


def create(name, **options):
    """Build the preset `name`; `options` override its defaults.

    Args:
        name: one of `available()`.
        **options: any `build_gan` keyword argument, e.g. data_shape=(28, 28, 1), num_classes=10.
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; available presets: {', '.join(available())}.")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for preset {name!r}; options are: {', '.join(OPTIONS)}.")
    defaults = preset_defaults(name, options.get("backbone"), options.get("data_shape", DEFAULT_DATA_SHAPE))
    latent_dim = options.get("latent_dim", defaults.get("latent_dim", 100))
    if defaults.get("backbone") in ("mlp", "dcgan") and (
        options.get("num_classes") is not None or options.get("feature_matching")
        or (isinstance(latent_dim, int) and latent_dim < defaults.get("latent_code", 0))
    ):
        # The labels choose the mode, feature matching replaces G's loss (and with it the code's term), and
        # the code is read from the first K noise entries: a preset's InfoGAN code makes way for any of
        # these; asked for explicitly, such a combination is an error.
        defaults.pop("latent_code", None)
    return build_gan(**{**defaults, **options, "preset": name})


TRANSLATORS = {"pix2pix": Pix2Pix, "cyclegan": CycleGAN}
"""The image-to-image models by name: each builds its paper's networks for an image shape (`build_for`)."""


def create_translator(name, image_shape, **options):
    """Build the image-to-image model `name` ("pix2pix" or "cyclegan") with its paper's networks for images of
    `image_shape` (H, W, C); `options` are its `build_for` arguments (filters, l1_weight, blocks, seed, ...).

    Args:
        name: one of `TRANSLATORS`.
        image_shape: (H, W, C) of the training images (pix2pix: of the input images).
        **options: e.g. filters=32, output_channels=3 (pix2pix), history_size=50 (CycleGAN).
    """
    if name not in TRANSLATORS:
        raise ValueError(f"Unknown image-to-image model {name!r}; available: {', '.join(TRANSLATORS)}.")
    return TRANSLATORS[name].build_for(tuple(image_shape), **options)


def preset_backbone(name, data_shape=DEFAULT_DATA_SHAPE):
    """The backbone preset `name` builds for samples of `data_shape` when none is asked for.

    A preset whose backbone is "auto" builds its paper's networks (`image_backbone`) for images and the
    zoo's MLP for vectors, so `ganzoo train vanilla` works on MNIST and on the toy sets alike.
    """
    preset = PRESETS[name]
    backbone = preset["options"]["backbone"]
    if backbone != "auto":
        return backbone
    return preset["image_backbone"] if len(tuple(data_shape)) == 3 else "mlp"


def preset_defaults(name, backbone=None, data_shape=DEFAULT_DATA_SHAPE):
    """The options preset `name` gives `build_gan` on `backbone` (default: the preset's own for `data_shape`).

    Args:
        name: one of `available()`.
        backbone: one of `BACKBONES`; None for the preset's.
        data_shape: shape of one sample; chooses the backbone of an "auto" preset when `backbone` is None.
    """
    options = PRESETS[name]["options"]
    backbone = backbone or preset_backbone(name, data_shape)
    shared = {key: value for key, value in options.items() if key not in (*BACKBONES, "backbone")}
    return {**shared, **options.get(backbone, {}), "backbone": backbone}


def describe(name):
    """What preset `name` is: a dict with "name", "paper", "summary" (a few words), "builds", "our_result" (our figure
    under the paper's protocol, None where not measured yet), "paper_result" (the paper's published
    number or figure, None when it has none the zoo can measure) and "options" (its defaults on images).

    Args:
        name: one of `available()`.
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; available presets: {', '.join(available())}.")
    preset = PRESETS[name]
    return {
        "name": name,
        "paper": preset["paper"],
        "summary": preset["summary"],
        "builds": preset["builds"],
        "paper_result": preset["paper_result"],
        "our_result": preset.get("our_result"),
        "options": preset_defaults(name),
    }
