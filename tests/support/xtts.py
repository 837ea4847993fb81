"""A tiny XTTS-v2 release made in the test: the real model classes from a small config
(two GPT layers, narrow widths) with random weights, a character-level BPE tokenizer
trained on the fly, saved in the official release's file layout with a SHA256SUMS list."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

TOKENIZER_TEXT = (
    "hello there how are you today the quick brown fox jumps over the lazy dog "
    "annyeonghaseyo jeoneun joheun achimimnida gamsahamnida 0123456789 , . ! ? ' -"
)
SPECIAL_TOKENS = ["[STOP]", "[UNK]", "[SPACE]", "[START]", "[en]", "[ko]", "[ja]", "[zh-cn]"]
SPEAKER = "Tiny Speaker"


def _train_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer, models, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    trainer = trainers.BpeTrainer(
        vocab_size=120, special_tokens=SPECIAL_TOKENS, initial_alphabet=list(TOKENIZER_TEXT)
    )
    tokenizer.train_from_iterator([TOKENIZER_TEXT.replace(" ", "")], trainer)
    tokenizer.save(str(path))


def _tiny_config():
    from TTS.tts.configs.xtts_config import XttsConfig

    config = XttsConfig()
    args = config.model_args
    args.gpt_layers = 2
    args.gpt_n_model_channels = 64
    args.gpt_n_heads = 2
    args.gpt_max_audio_tokens = 24
    args.gpt_max_text_tokens = 402
    args.gpt_max_prompt_tokens = 70
    args.gpt_num_audio_tokens = 258
    args.gpt_start_audio_token = 256
    args.gpt_stop_audio_token = 257
    args.gpt_use_perceiver_resampler = True
    args.decoder_input_dim = 64
    args.d_vector_dim = 512
    config.languages = ["en", "ko", "ja", "zh-cn"]
    return config


def make_tiny_release(folder: Path, seed: int = 0) -> Path:
    """Write the release files into ``folder`` and return it."""
    import torch
    from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
    from TTS.tts.models.xtts import Xtts

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    _train_tokenizer(folder / "vocab.json")
    config = _tiny_config()
    model = Xtts.init_from_config(config)
    model.tokenizer = VoiceBpeTokenizer(vocab_file=str(folder / "vocab.json"))
    model.init_models()
    # Random weights may pick the stop token at once; forbid it, so that every span speaks
    # up to the length limit and streams as several chunks.
    with torch.no_grad():
        model.gpt.mel_head.bias[config.model_args.gpt_stop_audio_token] = -1e4
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    config.model_args.tokenizer_file = ""
    (folder / "config.json").write_text(json.dumps(config.to_dict(), indent=1), "utf-8")
    speaker = {
        "gpt_cond_latent": torch.randn(1, 32, config.model_args.gpt_n_model_channels),
        "speaker_embedding": torch.randn(1, config.model_args.d_vector_dim, 1),
    }
    torch.save({SPEAKER: speaker}, folder / "speakers_xtts.pth")
    write_checksums(folder)
    return folder


def write_checksums(folder: Path) -> None:
    lines = [
        f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}"
        for name in ("model.pth", "config.json", "vocab.json", "speakers_xtts.pth")
    ]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n", "utf-8")
