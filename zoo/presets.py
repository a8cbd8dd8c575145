"""Named GAN recipes: `zoo.create(name, **options)` and `zoo.available()`.

Every preset is the same builder with different defaults, so the variants compose: a conditional
DCGAN with minibatch discrimination is `create("conditional", backbone="dcgan", minibatch_kernels=100)`.
"""

import inspect

from zoo import networks
from zoo.gan import GAN

BACKBONES = ("mlp", "dcgan")

# What the three unconditional presets add to a 16-filter DCGAN: minibatch discrimination, InfoGAN's code and
# the generator's moving average. Without all three it did not reach good MNIST samples in a 15-minute CPU
# budget (benchmarks/quality.md), so on images the presets share them.
DCGAN_ADDITIONS = dict(filters=16, minibatch_kernels=32, latent_code=10, ema_decay=0.999)

# A preset's options; a nested dict under a backbone's name holds defaults that apply only on that
# backbone (tuned for it), so `create("conditional", backbone="mlp")` does not inherit DCGAN settings.
# Backbone "auto" (see `preset_backbone`): the DCGAN for images it can build, else the MLP.
PRESETS = {
    # Goodfellow et al. 2014. On vectors (and images the DCGAN cannot build): the lecture example's MLPs,
    # 100-d U(-1, 1) noise, D trained with dropout as in the paper (0.3) and LeakyReLU; with plain ReLU and no
    # dropout D overpowers G on MNIST within 1,000 steps and every sample is one digit (the literal networks are
    # the `example2-mnist-mlp` recipe). On images the MLP is compute-bound on a CPU: it keeps improving with
    # samples seen (MNIST classifier score 5.0-5.7 at 6,559 steps, 7.7 at 20,000, 8.2 at 50 epochs) but cannot
    # reach good samples in 15 minutes. The paper itself used a convolutional D for CIFAR-10, so on images the
    # preset trains the convolutional networks with the dcgan preset's additions (the same model as `dcgan`);
    # backbone="mlp" (or the `example2-mnist-mlp-dropout` recipe) gives the paper's MNIST MLP.
    "vanilla": dict(backbone="auto", mlp=dict(activation="leaky_relu", dropout=0.3), dcgan=DCGAN_ADDITIONS),
    # Radford et al. 2015, narrowed to 16 filters (D: 16-32 channels; G: 64-32-16) so that its budget
    # of 8,000 steps trains in under 15 minutes on 2 CPU cores; pass filters=64 for the paper's widths.
    # On DCGAN it adds three things without which it did not reach good samples in that budget on MNIST
    # (benchmarks/quality.md): minibatch discrimination (B=32, C=5) against collapse (alone: score 7.6),
    # InfoGAN's 10-valued code read from z (Chen et al. 2016), so that G can choose among modes instead
    # of drawing the in-between digits a continuous map of one noise blob gives (score 7.6 -> 8.7 at
    # 6,000 steps), and the generator's moving average (decay 0.999). `latent_code=0` switches it off.
    "dcgan": dict(backbone="dcgan", dcgan=DCGAN_ADDITIONS),
    # Mirza & Osindero 2014: the label conditions G and D. On the DCGAN backbone (16 filters) with
    # minibatch discrimination: with the MLP backbone and the label concatenated to D's input, D
    # ignores the label (10% conditional accuracy on MNIST after 3,000 steps); without minibatch
    # discrimination the conditional DCGAN draws one image per class (benchmarks/quality.md).
    "conditional": dict(backbone="dcgan", num_classes=10, dcgan=dict(filters=16, minibatch_kernels=32)),
    # Salimans et al. 2016: minibatch discrimination before D's output. On the DCGAN backbone (16
    # filters, B=32) it needs the dcgan preset's InfoGAN code and moving average to reach good samples,
    # so on DCGAN it coincides with `dcgan` (and `vanilla`); on the MLP (B=100) it collapsed to one class.
    "minibatch": dict(backbone="dcgan", minibatch_kernels=100, dcgan=DCGAN_ADDITIONS),
}

DESCRIPTIONS = {
    "vanilla": "Goodfellow et al. 2014's GAN: on images the convolutional networks with the dcgan preset's additions "
    "(the same model as dcgan: the paper's MLP reaches MNIST classifier score 5.7 in the CPU budget, 8.2 only after 50 "
    "epochs); on vectors the paper's MLP, LeakyReLU, D with dropout 0.3. backbone=mlp: the MLP on images too",
    "dcgan": "deep convolutional GAN (Radford et al. 2015), 16 filters for a CPU budget (filters=64: the paper's), "
    "with minibatch discrimination, InfoGAN's 10-valued code and the generator's moving average",
    "conditional": "class-conditional DCGAN (16 filters) with minibatch discrimination (Mirza & Osindero 2014); "
    "backbone=mlp conditions through an auxiliary classifier (AC-GAN) unless conditioning is given",
    "minibatch": "minibatch discrimination (B=32, C=5) on a 16-filter DCGAN with InfoGAN's code and the moving "
    "average (as the dcgan preset), optional feature matching (Salimans et al. 2016)",
}


def available():
    """The preset names `create` accepts.

    Returns:
        A sorted list of preset names (str), e.g. ["conditional", "dcgan", "minibatch", "vanilla"].
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
    g_units=(256, 512, 1024),
    d_units=(1024, 512, 256),
    activation="relu",
    output_activation=None,
    dropout=0.0,
    pack=1,
    filters=64,
    seed=None,
    update="alternating",
    spectral_norm=False,
    gp_weight=10.0,
    r1_weight=0.0,
    ema_decay=None,
    diffaugment=None,
    conditioning=None,
    generator_loss=None,
    latent_code=0,
    code_weight=1.0,
    preset=None,
):
    """Build an uncompiled GAN.

    MLP options: `g_units`, `d_units`, `activation` (any Keras activation, e.g. "leaky_relu"),
    `output_activation` (default tanh for images, linear for vectors, whose range is unbounded),
    `dropout` (rate after each of D's hidden layers), `pack` (PacGAN: D judges `pack` samples at
    once; the batch size must be a multiple of it). DCGAN option: `filters` (width of D's first
    layer and G's last hidden layer). `minibatch_kernels` (B) and `minibatch_dim` (C) switch on
    minibatch discrimination; `feature_matching` needs nothing else. `update` picks how a training
    step spends its forward passes (see `zoo.GAN`).

    Stabilisers: `loss` ("non_saturating", "minimax", "hinge", "wasserstein_gp", "least_squares";
    `generator_loss` is its older name), `gp_weight` (WGAN-GP; its DCGAN critic uses LayerNorm instead
    of BatchNorm), `r1_weight` (gamma), `spectral_norm` (D's dense and convolution layers),
    `ema_decay` (averaged generator), `diffaugment` (policy such as "color,translation,cutout"),
    `conditioning` ("concat", "projection" or "acgan"; conditional models only), `latent_code`
    (InfoGAN's categorical code with K values, read from z; unconditional models only) and its
    `code_weight` (lambda).

    Args:
        backbone: "mlp" or "dcgan": the architecture of G and D.
        data_shape: shape of one sample, (H, W, C) for images or (D,) for vectors.
        latent_dim: size of the noise vector z (positive int).
        num_classes: number of classes (>= 2) for a conditional GAN; None for unconditional.
        prior: distribution of z, "uniform" (U(-1, 1)) or "normal" (N(0, 1)).
        d_steps: discriminator updates per step (k); None: 5 for "wasserstein_gp", else 1.
        loss: the loss pair's name in `zoo.LOSSES`; None for "non_saturating".
        label_smoothing: one-sided smoothing s in [0, 1) of D's real target (cross-entropy losses only).
        feature_matching: if True, G minimises the feature matching loss on D's "features" layer.
        minibatch_kernels: B, minibatch discrimination kernels in D (0: off).
        minibatch_dim: C, the dimension of each minibatch kernel.
        g_units, d_units, activation, output_activation, dropout, pack: MLP options (above):
            hidden layer widths of G and D, hidden activation, G's output activation, D's dropout
            rate in [0, 1), and the PacGAN packing degree (1: off).
        filters: DCGAN option (above): width of D's first layer and G's last hidden layer.
        seed: int (or None) for the GAN's `keras.random.SeedGenerator`.
        update: "alternating", "reuse_fake" or "fused" (see `zoo.GAN`).
        spectral_norm: if True, spectral normalisation on D's dense and convolution layers.
        gp_weight: WGAN-GP penalty weight (used with loss="wasserstein_gp"), non-negative.
        r1_weight: R1 penalty weight gamma, non-negative (0: off).
        ema_decay: decay in [0, 1) of the averaged generator; None or 0: off.
        diffaugment: DiffAugment policy string (images only); None: off.
        conditioning: "concat", "projection" or "acgan" for conditional models; None for the
            default ("acgan" on the MLP backbone, "concat" on DCGAN).
        generator_loss: older name for `loss` ("non_saturating" or "minimax" only).
        latent_code: K, the values of InfoGAN's categorical code (Chen et al. 2016), 0 for off;
            unconditional models only, 2 <= K <= latent_dim (see `zoo.LatentCode`).
        code_weight: lambda, the weight of the code's cross-entropy in both players' losses.
        preset: the preset name recorded in the model's config; set by `create`.
    """
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
    if latent_code and (num_classes is not None or pack > 1 or not 2 <= latent_code <= latent_dim):
        raise ValueError(
            f"latent_code (InfoGAN) needs an unconditional model without pack and 2 <= K <= latent_dim={latent_dim}; "
            f"got latent_code={latent_code}, num_classes={num_classes}, pack={pack}."
        )
    if conditioning is None and num_classes is not None and backbone == "mlp":
        # With the label only concatenated to its input, an MLP D learns to ignore it (10% conditional
        # accuracy on MNIST); an auxiliary classifier (Odena et al. 2017) makes the class part of D's task.
        conditioning = "acgan"
    conditioning = networks.checked_conditioning(conditioning, num_classes)
    wasserstein = loss == "wasserstein_gp"
    if backbone == "mlp":
        if output_activation is None:
            output_activation = "tanh" if len(data_shape) > 1 else "linear"
        generator = networks.mlp_generator(
            data_shape, latent_dim, g_units, activation, output_activation, num_classes, latent_code=latent_code
        )
        discriminator = networks.mlp_discriminator(
            data_shape, d_units, activation, num_classes, minibatch_kernels, minibatch_dim, dropout, pack,
            conditioning, spectral_norm, latent_code=latent_code,
        )
    else:
        generator = networks.dcgan_generator(data_shape, latent_dim, filters, num_classes, latent_code=latent_code)
        discriminator = networks.dcgan_discriminator(
            data_shape, filters, num_classes, minibatch_kernels, minibatch_dim, conditioning, spectral_norm,
            normalization="layer" if wasserstein else "batch", latent_code=latent_code,
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
        latent_code=latent_code,
        code_weight=code_weight,
    )


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
    latent_dim = options.get("latent_dim", 100)
    if options.get("num_classes") is not None or options.get("feature_matching") or (
        isinstance(latent_dim, int) and latent_dim < defaults.get("latent_code", 0)
    ):
        # The labels choose the mode, feature matching replaces G's loss (and with it the code's term), and
        # the code is read from the first K noise entries: the default InfoGAN code makes way for any of
        # these; asked for explicitly, such a combination is an error.
        defaults.pop("latent_code", None)
    return build_gan(**{**defaults, **options, "preset": name})


def preset_backbone(name, data_shape=DEFAULT_DATA_SHAPE):
    """The backbone preset `name` builds for samples of `data_shape` when none is asked for.

    A preset whose backbone is "auto" takes the DCGAN for images it can build (square, side s * 2^k)
    and the MLP for anything else, so `ganzoo train vanilla` works on images and on vectors alike.
    """
    backbone = PRESETS[name]["backbone"]
    if backbone != "auto":
        return backbone
    try:
        networks.dcgan_upsamplings(tuple(int(d) for d in data_shape))
    except ValueError:
        return "mlp"
    return "dcgan"


def preset_defaults(name, backbone=None, data_shape=DEFAULT_DATA_SHAPE):
    """The options preset `name` gives `build_gan` on `backbone` (default: the preset's own for `data_shape`).

    Args:
        name: one of `available()`.
        backbone: "mlp" or "dcgan"; None for the preset's.
        data_shape: shape of one sample; chooses the backbone of an "auto" preset when `backbone` is None.
    """
    preset = PRESETS[name]
    backbone = backbone or preset_backbone(name, data_shape)
    shared = {key: value for key, value in preset.items() if key not in (*BACKBONES, "backbone")}
    return {**shared, **preset.get(backbone, {}), "backbone": backbone}
