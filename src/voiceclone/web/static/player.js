// Playing speech while it is still being made.
//
// WAV arrives as a header then 16-bit PCM: each piece is scheduled into Web Audio as soon as
// it lands. MP3 and AAC go into a MediaSource behind the <audio> element. Other formats are
// only played once complete (browsers cannot append them to a MediaSource).

const MIN_BLOCK_SECONDS = 0.05;
const START_DELAY_SECONDS = 0.05;

/** Where the samples of a (streamed) WAV start, and its sample rate; null if incomplete. */
export function parseWavHeader(bytes) {
  if (bytes.length < 12) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 12;
  let sampleRate = 24000;
  while (offset + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    if (id === "data") return { dataStart: offset + 8, sampleRate };
    if (id === "fmt " && offset + 16 <= bytes.length) sampleRate = view.getUint32(offset + 12, true);
    offset += 8 + size + (size % 2);
  }
  return null;
}

export class LiveWavPlayer {
  constructor(context, onFirstSound) {
    this.context = context;
    this.onFirstSound = onFirstSound;
    this.header = new Uint8Array(0);
    this.format = null;
    this.pending = new Uint8Array(0);
    this.nextTime = 0;
    this.started = false;
    this.sources = new Set();
  }

  /** Silence what is still scheduled (the finished result is about to play instead). */
  stop() {
    for (const source of this.sources) source.stop();
    this.sources.clear();
  }

  feed(bytes) {
    if (!this.format) {
      this.header = concat(this.header, bytes);
      this.format = parseWavHeader(this.header);
      if (!this.format) return;
      bytes = this.header.subarray(this.format.dataStart);
    }
    this.pending = concat(this.pending, bytes);
    const minimum = Math.round(MIN_BLOCK_SECONDS * this.format.sampleRate) * 2;
    if (this.pending.length >= minimum) this.flush();
  }

  flush() {
    const usable = this.pending.length - (this.pending.length % 2);
    if (!this.format || usable === 0) return;
    const view = new DataView(this.pending.buffer, this.pending.byteOffset, usable);
    const samples = new Float32Array(usable / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
    this.pending = this.pending.slice(usable);
    const buffer = this.context.createBuffer(1, samples.length, this.format.sampleRate);
    buffer.copyToChannel(samples, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    source.onended = () => this.sources.delete(source);
    this.sources.add(source);
    const at = Math.max(this.nextTime, this.context.currentTime + START_DELAY_SECONDS);
    source.start(at);
    this.nextTime = at + buffer.duration;
    if (!this.started) {
      this.started = true;
      this.onFirstSound();
    }
  }

  finish() {
    this.flush();
  }
}

export class LiveMediaSourcePlayer {
  static supports(mimeType) {
    return "MediaSource" in window && MediaSource.isTypeSupported(mimeType);
  }

  constructor(audio, mimeType, onFirstSound) {
    this.audio = audio;
    this.queue = [];
    this.ended = false;
    this.mediaSource = new MediaSource();
    this.buffer = null;
    audio.addEventListener("playing", () => onFirstSound(), { once: true });
    this.mediaSource.addEventListener(
      "sourceopen",
      () => {
        this.buffer = this.mediaSource.addSourceBuffer(mimeType);
        this.buffer.mode = "sequence";
        this.buffer.addEventListener("updateend", () => this.pump());
        this.pump();
      },
      { once: true },
    );
    audio.src = URL.createObjectURL(this.mediaSource);
    audio.play().catch(() => {});
  }

  feed(bytes) {
    this.queue.push(bytes);
    this.pump();
  }

  pump() {
    if (!this.buffer || this.buffer.updating) return;
    if (this.queue.length) {
      this.buffer.appendBuffer(this.queue.shift());
    } else if (this.ended && this.mediaSource.readyState === "open") {
      this.mediaSource.endOfStream();
    }
  }

  finish() {
    this.ended = true;
    this.pump();
  }
}

export function concat(first, second) {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first, 0);
  joined.set(second, first.length);
  return joined;
}
