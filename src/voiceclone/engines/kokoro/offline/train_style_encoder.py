"""Make the style encoder's training data with the engine itself, and train it.

Data: styles are sampled over and around the 54 stock voices (sparse blends, single voices
with perturbations in the stock voices' PCA space, Gaussian samples in that space, and
mild extrapolations away from the mean voice); each is spoken on a random training
sentence and the recording is described by :func:`recording_features`. The target is the
style's mean row; the table actually spoken is the base blend shifted to that row
(:func:`with_mean_row`), exactly as voice creation builds it.

Each recording is described clean and as ``views`` degraded copies (a short crop, a room,
noise, a phone line or a codec: :func:`~voiceclone.audio.degrade.degrade_randomly`), all
aimed at the same style, so that the clips users send are read like clean ones.

Training: a one-hidden-layer MLP (torch, training time only) or, without torch, ridge
regression; both export to the numpy runtime of :class:`StyleEncoder`. The bundled
``style_encoder_v2.npz`` came from two data sets made side by side on two cores:

    voiceclone train-style-encoder --samples 750 --seed 2 --data .cache/style_data_2.npz \
        --output .cache/unused.npz --threads 1
    voiceclone train-style-encoder --samples 750 --seed 1 --data .cache/style_data.npz \
        --also .cache/style_data_2.npz --threads 1

The bundled ``style_encoder_v1.npz`` (trained the same way on clean speech only) was then
shown the dev speakers' recordings (:func:`calibrate_to_real_speech`):

    voiceclone calibrate-style-encoder $(python bench/splits.py)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import soxr

from voiceclone.cloning.embedder import SAMPLE_RATE as EMBEDDER_RATE
from voiceclone.engines.kokoro.style_encoder import (
    FEATURE_VERSION,
    METHOD,
    PROSODY_NAMES,
    WEIGHTS_FILES,
    StyleEncoder,
    recording_features,
    with_mean_row,
)

if TYPE_CHECKING:
    from rich.console import Console

    from voiceclone.engines.kokoro.engine import KokoroEngine

# Sentences the encoder is trained on. The quality benchmark speaks other sentences.
TRAINING_SENTENCES = (
    "The old lighthouse keeper climbed the stairs every evening before sunset.",
    "Could you tell me where the nearest train station is, please?",
    "We planted tomatoes, beans and a row of sunflowers along the fence.",
    "Honestly, I did not expect the meeting to run that long.",
    "A gentle breeze carried the smell of fresh bread down the street.",
    "She opened the letter slowly, afraid of what it might say.",
    "The museum is closed on Mondays but open late on Thursdays.",
    "My brother fixed the bicycle with nothing but a spoon and some tape.",
    "Please remember to switch off the lights when you leave the office.",
    "The children laughed as the puppy chased its own tail around the garden.",
    "Thunder rolled across the valley while we waited under the bridge.",
    "I would like a cup of tea with milk and no sugar.",
    "Our flight was delayed, so we spent the afternoon exploring the airport.",
    "He whispered the answer, hoping nobody else would hear it.",
    "The river was so clear that you could count the stones on the bottom.",
    "After dinner, they played cards until well past midnight.",
    "Every winter the lake freezes and the whole town goes skating.",
    "Is this the right way to the library, or should we turn back?",
    "The recipe calls for two eggs, a little butter and a pinch of salt.",
    "Scientists have discovered a new species of frog in the rainforest.",
    "Why does the cat always sit on the one chair nobody else wants?",
    "The concert was wonderful, although the hall was far too warm.",
    "Turn left at the bakery and walk straight on for five minutes.",
    "Nobody knew exactly how the painting had ended up in the attic.",
    "She practised the piano for an hour every morning before school.",
    "The storm knocked down several trees and left the village without power.",
    "I think we should leave early to avoid the traffic.",
    "Fresh snow covered the mountains, and the air was sharp and cold.",
    "What a surprise to see you here after all these years!",
    "The committee will announce its decision at the end of the week.",
)

STRATEGIES = ("blend", "perturbed", "gaussian", "extrapolated")
STRATEGY_WEIGHTS = (0.35, 0.25, 0.25, 0.15)


@dataclass(frozen=True)
class StockSpace:
    """The stock voices' tables, their mean rows and the PCA of those rows."""

    names: list[str]
    tables: np.ndarray  # (voices, rows, 256)
    rows: np.ndarray  # (voices, 256) mean rows
    mean: np.ndarray  # (256,)
    components: np.ndarray  # (k, 256), orthonormal
    scales: np.ndarray  # (k,) standard deviation along each component

    @classmethod
    def from_tables(cls, names: list[str], tables: np.ndarray) -> StockSpace:
        rows = tables.mean(axis=1)
        mean = rows.mean(axis=0)
        _, singular, vt = np.linalg.svd(rows - mean, full_matrices=False)
        keep = singular > singular[0] * 1e-3
        scales = singular[keep] / np.sqrt(max(1, len(rows) - 1))
        return cls(names, tables, rows, mean, vt[keep], scales)


@dataclass(frozen=True)
class StyleRecipe:
    base_indices: np.ndarray
    base_weights: np.ndarray
    row: np.ndarray
    strategy: str

    def table(self, space: StockSpace) -> np.ndarray:
        base = np.tensordot(self.base_weights, space.tables[self.base_indices], axes=1)
        return with_mean_row(base, self.row)


def _pca_noise(rng: np.random.Generator, space: StockSpace, scale: float) -> np.ndarray:
    result: np.ndarray = (
        rng.standard_normal(len(space.scales)) * space.scales * scale
    ) @ space.components
    return result


def _nearest(space: StockSpace, row: np.ndarray, count: int) -> np.ndarray:
    distances = np.linalg.norm(space.rows - row, axis=1)
    return np.argsort(distances)[:count]


def sample_recipe(rng: np.random.Generator, space: StockSpace) -> StyleRecipe:
    """One style around the stock voices' manifold (see the module docstring)."""
    strategy = str(rng.choice(STRATEGIES, p=STRATEGY_WEIGHTS))
    voices = len(space.names)
    if strategy == "blend":
        indices = rng.choice(voices, size=int(rng.integers(2, 4)), replace=False)
        weights = rng.dirichlet(np.ones(len(indices)))
        row = weights @ space.rows[indices] + _pca_noise(rng, space, 0.15)
    elif strategy == "perturbed":
        indices = rng.choice(voices, size=1)
        weights = np.ones(1)
        row = space.rows[indices[0]] + _pca_noise(rng, space, rng.uniform(0.1, 0.5))
    elif strategy == "gaussian":
        row = space.mean + _pca_noise(rng, space, rng.uniform(0.6, 1.1))
        indices = _nearest(space, row, 2)
        weights = np.full(2, 0.5)
    else:  # extrapolated: further from the mean voice than any blend reaches
        indices = rng.choice(voices, size=int(rng.integers(1, 3)), replace=False)
        weights = rng.dirichlet(np.ones(len(indices)))
        blend = weights @ space.rows[indices]
        row = space.mean + rng.uniform(1.05, 1.35) * (blend - space.mean)
        row = row + _pca_noise(rng, space, 0.1)
    return StyleRecipe(indices, weights.astype(np.float32), row.astype(np.float32), strategy)


def load_stock_space(engine: KokoroEngine) -> StockSpace:
    names = list(engine.stock_voice_names())
    return StockSpace.from_tables(names, np.stack([engine.stock_style(n) for n in names]))


def generate_data(
    engine: KokoroEngine,
    count: int,
    output: Path,
    seed: int = 0,
    sentences: tuple[str, ...] = TRAINING_SENTENCES,
    progress: Callable[[int, int], None] | None = None,
    save_every: int = 50,
    views: int = 0,
) -> dict[str, np.ndarray]:
    """Speak ``count`` sampled styles and save features/targets to ``output`` (.npz).

    Each recording gives its clean features and ``views`` more from degraded copies of it
    (:func:`~voiceclone.audio.degrade.degrade_randomly`: short crops, phone band, codecs,
    room, noise), all with the same target, so the encoder learns to read what users send.
    Rows of one style share its ``style`` number. Resumable: an existing file with the same
    seed and views is extended, not redone.
    """
    from voiceclone.audio.degrade import degrade_randomly
    from voiceclone.engines.base import VoiceProfile

    space = load_stock_space(engine)
    rng = np.random.default_rng(seed)
    keys = ("features", "targets", "strategy", "sentence", "style")
    data: dict[str, list] = {key: [] for key in keys}
    if output.is_file():
        with np.load(output) as existing:
            same = int(existing["seed"]) == seed and int(existing.get("views", 0)) == views
            if same and int(existing["feature_version"]) == FEATURE_VERSION:
                data = {key: list(existing[key]) for key in keys if key in existing}
                data.setdefault("style", list(range(len(data["features"]))))
    done = len(set(data["style"]))
    # Replay the random stream so a resumed run samples the same styles as a fresh one.
    for _ in range(done):
        sample_recipe(rng, space)
        rng.integers(len(sentences))

    def save() -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.stem + ".partial.npz")
        np.savez(
            partial,
            features=np.array(data["features"], dtype=np.float32).reshape(-1, len_features()),
            targets=np.array(data["targets"], dtype=np.float32).reshape(-1, space.rows.shape[1]),
            strategy=np.array(data["strategy"], dtype="U16"),
            sentence=np.array(data["sentence"], dtype=np.int32),
            style=np.array(data["style"], dtype=np.int32),
            views=np.int32(views),
            seed=np.int64(seed),
            feature_version=np.int32(FEATURE_VERSION),
        )
        partial.replace(output)

    for index in range(done, count):
        if progress:
            progress(index, count)
        recipe = sample_recipe(rng, space)
        sentence = int(rng.integers(len(sentences)))
        voice = VoiceProfile(
            engine=engine.name, engine_version=engine.version, style=recipe.table(space)
        )
        audio = engine.synthesize_all(sentences[sentence], voice, language="en-us")
        audio16 = soxr.resample(audio, engine.sample_rate, EMBEDDER_RATE)
        # Its own stream per style, so a resumed run degrades exactly as a fresh one.
        degrade_rng = np.random.default_rng([seed, index])
        copies = [degrade_randomly(audio16, EMBEDDER_RATE, degrade_rng) for _ in range(views)]
        for recording in (audio16, *copies):
            data["features"].append(recording_features(recording, engine.embedder))
            data["targets"].append(recipe.row)
            data["strategy"].append(recipe.strategy)
            data["sentence"].append(sentence)
            data["style"].append(index)
        if (index + 1) % save_every == 0:
            save()
    if progress:
        progress(count, count)
    save()
    with np.load(output) as saved:
        return {key: saved[key] for key in saved.files}


def len_features() -> int:
    from voiceclone.engines.kokoro.style_encoder import PROSODY_NAMES

    return 256 + len(PROSODY_NAMES)


@dataclass
class TrainReport:
    samples: int
    validation_samples: int
    validation_rmse: float
    validation_cosine: float
    baseline_cosine: float  # of the mean style, for comparison
    kind: str


def _standardise(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-4
    return mean, scale


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    result: np.ndarray = (a * b).sum(axis=1) / (
        np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12
    )
    return result


def train_ridge(x: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray]:
    gram = x.T @ x + penalty * np.eye(x.shape[1])
    weight = np.linalg.solve(gram, x.T @ y)
    return weight.astype(np.float32), np.zeros(y.shape[1], dtype=np.float32)


def train_mlp(
    x: np.ndarray,
    y: np.ndarray,
    hidden: int,
    epochs: int,
    weight_decay: float,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Dropout(0.1),
        torch.nn.Linear(x.shape[1], hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, y.shape[1]),
    )
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    inputs = torch.tensor(x, dtype=torch.float32)
    targets = torch.tensor(y, dtype=torch.float32)
    batch = 64
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), batch):
            chosen = order[start : start + batch]
            # Feature noise: real recordings are not exactly the engine's own audio.
            noisy = inputs[chosen] + 0.1 * torch.randn_like(inputs[chosen])
            loss = torch.nn.functional.mse_loss(model(noisy), targets[chosen])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()
        if progress:
            progress(epoch + 1, epochs)
    first, second = cast(torch.nn.Linear, model[1]), cast(torch.nn.Linear, model[3])
    return (
        (first.weight.detach().numpy().T.copy(), first.bias.detach().numpy().copy()),
        (second.weight.detach().numpy().T.copy(), second.bias.detach().numpy().copy()),
    )


def train_encoder(
    data: dict[str, np.ndarray],
    kind: str = "mlp",
    hidden: int = 256,
    epochs: int = 200,
    weight_decay: float = 1e-3,
    ridge_penalty: float = 30.0,
    strength: float = 1.0,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[StyleEncoder, TrainReport]:
    """Fit on 90% of the styles, report on the other 10%, then refit on all of them.

    All rows of one style (its clean and degraded recordings) fall on the same side.
    """
    features = np.asarray(data["features"], dtype=np.float64)
    targets = np.asarray(data["targets"], dtype=np.float64)
    styles = np.asarray(data.get("style", np.arange(len(features))))
    views = int(data.get("views", 0))
    if kind == "mlp":
        try:
            import torch  # noqa: F401
        except ImportError:
            kind = "ridge"
    rng = np.random.default_rng(seed)
    unique = rng.permutation(np.unique(styles))
    cut = max(1, len(unique) // 10) if len(unique) >= 10 else 0
    held = np.isin(styles, unique[:cut])
    validation, training = np.flatnonzero(held), np.flatnonzero(~held)
    order = np.arange(len(features))

    def fit(rows: np.ndarray, report: Callable[[int, int], None] | None) -> StyleEncoder:
        f_mean, f_scale = _standardise(features[rows])
        t_mean = targets[rows].mean(axis=0)
        x = (features[rows] - f_mean) / f_scale
        y = targets[rows] - t_mean
        if kind == "mlp":
            layers = train_mlp(x, y, hidden, epochs, weight_decay, seed, report)
        else:
            layers = (train_ridge(x, y, ridge_penalty),)
        return StyleEncoder(
            feature_mean=f_mean.astype(np.float32),
            feature_scale=f_scale.astype(np.float32),
            layers=tuple((w.astype(np.float32), b.astype(np.float32)) for w, b in layers),
            target_mean=t_mean.astype(np.float32),
            strength=strength,
            degraded_views=views,
        )

    if len(validation):
        trial = fit(training, None)
        predicted = trial.predict(features[validation], strength=1.0)
        truth = targets[validation]
        rmse = float(np.sqrt(((predicted - truth) ** 2).mean()))
        cosine = float(_cosines(predicted - trial.target_mean, truth - trial.target_mean).mean())
        baseline = float(_cosines(np.broadcast_to(trial.target_mean, truth.shape), truth).mean())
    else:
        rmse = cosine = baseline = float("nan")
    encoder = fit(order, progress)
    report = TrainReport(
        samples=len(features),
        validation_samples=len(validation),
        validation_rmse=rmse,
        validation_cosine=cosine,
        baseline_cosine=baseline,
        kind=kind,
    )
    return encoder, report


DEFAULT_OUTPUT = Path(__file__).parents[1] / "weights" / WEIGHTS_FILES[METHOD]
DEFAULT_KIND = "ridge"  # generalises from the engine's audio to real voices better than the MLP
DEFAULT_RIDGE_PENALTY = 100.0
DEFAULT_STRENGTH = 1.25  # undoes part of the regression's shrinkage toward the mean voice
DEFAULT_VIEWS = 4  # degraded copies per recording


def run_training(
    samples: int,
    output: Path,
    data_path: Path,
    seed: int = 1,
    kind: str = DEFAULT_KIND,
    epochs: int = 150,
    ridge_penalty: float = DEFAULT_RIDGE_PENALTY,
    strength: float = DEFAULT_STRENGTH,
    threads: int = 0,
    sentences: int = len(TRAINING_SENTENCES),
    views: int = DEFAULT_VIEWS,
    also: tuple[Path, ...] = (),
    engine: KokoroEngine | None = None,
    console: Console | None = None,
) -> TrainReport:
    """Generate (or extend) the data set, train, and save the weights; with progress bars."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from voiceclone.engines.kokoro import KokoroEngine
    from voiceclone.settings import Settings

    console = console or Console(stderr=True)
    if engine is None:
        engine = KokoroEngine(settings=Settings(onnx_threads=threads))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        speak = progress.add_task("Speaking sampled styles", total=samples)
        data = generate_data(
            engine,
            samples,
            data_path,
            seed=seed,
            sentences=TRAINING_SENTENCES[: max(1, sentences)],
            progress=lambda done, total: progress.update(speak, completed=done, total=total),
            save_every=25,
            views=views,
        )
        for extra in also:  # data sets generated in parallel, e.g. with other seeds
            with np.load(extra) as more:
                offset = int(data["style"].max()) + 1 if len(data["style"]) else 0
                more_styles = more["style"] if "style" in more else np.arange(len(more["targets"]))
                data = {k: np.concatenate([data[k], more[k]]) for k in ("features", "targets")} | {
                    "style": np.concatenate([data["style"], more_styles + offset]),
                    "views": data["views"],
                }
        fit = progress.add_task(f"Training ({kind})", total=epochs if kind == "mlp" else 1)
        encoder, report = train_encoder(
            data,
            kind=kind,
            epochs=epochs,
            ridge_penalty=ridge_penalty,
            strength=strength,
            seed=seed,
            progress=lambda done, total: progress.update(fit, completed=done, total=total),
        )
        progress.update(fit, completed=progress.tasks[fit].total)
    output.parent.mkdir(parents=True, exist_ok=True)
    encoder.save(output)
    console.print(
        f"Saved {output} ({report.kind}, {report.samples} samples). Validation on "
        f"{report.validation_samples}: RMSE {report.validation_rmse:.4f}, cosine of style "
        f"offsets {report.validation_cosine:.3f} (mean voice alone: {report.baseline_cosine:.3f})."
    )
    return report


def calibrate_to_real_speech(
    clips: list[Path],
    method: str,
    output: Path | None = None,
    engine: KokoroEngine | None = None,
    console: Console | None = None,
) -> StyleEncoder:
    """Record in ``method``'s weights the mean d-vector of real people's ``clips``.

    The encoder learned from the engine's own speech; :meth:`StyleEncoder.predict` moves
    its reading of a real recording along the offset between the two (the setting
    ``style_encoder_real_speech_gain``). Calibrate on speakers no benchmark reports on.
    """
    from rich.console import Console

    from voiceclone.audio.decode import decode_audio
    from voiceclone.audio.reference import prepare_reference
    from voiceclone.engines.base import VoiceSample
    from voiceclone.engines.kokoro import KokoroEngine

    if not clips:
        raise ValueError("Calibrating needs at least one recording of a real person.")
    console = console or Console(stderr=True)
    engine = engine or KokoroEngine()
    bundled = DEFAULT_OUTPUT.with_name(WEIGHTS_FILES[method])
    encoder = StyleEncoder.load(bundled)
    rate = engine.sample_rate
    dvectors = []
    for clip in clips:
        audio = prepare_reference(decode_audio(str(clip), rate), rate)
        features = engine.sample_features([VoiceSample(audio, rate)])
        dvectors.append(features[: -len(PROSODY_NAMES)])
    calibrated = replace(encoder, real_speech_dvector=np.mean(dvectors, axis=0))
    target = output or bundled
    calibrated.save(target)
    console.print(f"Saved {target}: real-speech d-vector from {len(clips)} recordings.")
    return calibrated
