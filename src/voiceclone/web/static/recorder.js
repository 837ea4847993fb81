// Recording from the microphone with MediaRecorder (webm/opus), a level meter and elapsed time.

const MIME_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus"];

export class Recorder {
  /** @param {{meter?: HTMLMeterElement, elapsed?: HTMLElement}} display */
  constructor(display = {}) {
    this.display = display;
    this.recorder = null;
    this.stream = null;
    this.context = null;
    this.chunks = [];
    this.started = 0;
    this.timer = 0;
  }

  get recording() {
    return this.recorder !== null;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: true },
    });
    const mimeType = MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) ?? "";
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : {});
    this.chunks = [];
    this.recorder.ondataavailable = (event) => {
      if (event.data.size) this.chunks.push(event.data);
    };
    this.recorder.start(250);
    this.started = performance.now();
    this.watchLevel();
  }

  watchLevel() {
    this.context = new AudioContext();
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 1024;
    this.context.createMediaStreamSource(this.stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const tick = () => {
      analyser.getFloatTimeDomainData(samples);
      let power = 0;
      for (const sample of samples) power += sample * sample;
      const rms = Math.sqrt(power / samples.length);
      if (this.display.meter) this.display.meter.value = Math.min(1, rms * 4);
      if (this.display.elapsed) {
        this.display.elapsed.textContent = `${this.seconds().toFixed(1)} s`;
      }
      this.timer = requestAnimationFrame(tick);
    };
    tick();
  }

  seconds() {
    return this.started ? (performance.now() - this.started) / 1000 : 0;
  }

  /** Stop and return the recording as a Blob (and how long it is). */
  async stop() {
    const recorder = this.recorder;
    const done = new Promise((resolve) => {
      recorder.onstop = resolve;
    });
    const seconds = this.seconds();
    recorder.stop();
    await done;
    cancelAnimationFrame(this.timer);
    for (const track of this.stream.getTracks()) track.stop();
    await this.context?.close();
    if (this.display.meter) this.display.meter.value = 0;
    this.recorder = null;
    this.started = 0;
    const blob = new Blob(this.chunks, { type: recorder.mimeType || "audio/webm" });
    return { blob, seconds };
  }
}
