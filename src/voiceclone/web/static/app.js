// The voiceclone web app: sign in, record or upload a voice, manage voices, speak (audio
// plays while it is made), long texts as jobs with progress, and past jobs.

import { ApiError, getJson, request, resume, signIn, signOut, whenSessionEnds } from "./api.js";
import { initialLanguage, language, setLanguage, t } from "./i18n.js";
import { LiveMediaSourcePlayer, LiveWavPlayer, concat, parseWavHeader } from "./player.js";
import { Recorder } from "./recorder.js";

/** Longer texts are made as a job (with progress) instead of a live stream. */
const LONG_TEXT_CHARS = 600;
const JOB_POLL_MS = 500;
const EXTENSIONS = { wav: "wav", mp3: "mp3", aac: "aac", opus: "opus", flac: "flac" };
const LIVE_MIME = { mp3: "audio/mpeg", aac: "audio/aac" };

const $ = (id) => document.getElementById(id);
const state = { owner: "", consent: null, challenge: null, recording: null, consentReading: null };

// -- messages -------------------------------------------------------------------------------------

function announce(text) {
  $("announcer").textContent = text;
}

function showError(text) {
  const alert = $("alert");
  alert.textContent = text;
  alert.hidden = !text;
}

function messageOf(error) {
  if (error instanceof ApiError) return error.message;
  return t("networkError");
}

/** A message beside the form it is about; errors are alerts, the rest polite status. */
function say(element, text, isError = false) {
  element.setAttribute("role", isError ? "alert" : "status");
  element.textContent = text;
  element.classList.toggle("error", isError);
}

// -- signing in and out ---------------------------------------------------------------------------

function showSignIn(message = "") {
  state.owner = "";
  $("app-view").hidden = true;
  $("sign-out").hidden = true;
  $("who").hidden = true;
  $("sign-in-view").hidden = false;
  say($("sign-in-message"), message, Boolean(message));
  showError("");
  $("api-key").focus();
}

async function showApp(owner) {
  state.owner = owner;
  showError("");
  $("sign-in-view").hidden = true;
  $("app-view").hidden = false;
  $("sign-out").hidden = false;
  $("who").hidden = false;
  $("who").textContent = t("signedInAs", { owner });
  await Promise.all([loadConsent(), loadVoices(), loadJobs()]);
}

async function onSignIn(event) {
  event.preventDefault();
  const input = $("api-key");
  try {
    const session = await signIn(input.value);
    input.value = "";
    await showApp(session.owner);
  } catch (error) {
    say($("sign-in-message"), messageOf(error), true);
  }
}

async function onSignOut() {
  try {
    await signOut();
  } finally {
    showSignIn();
  }
}

// -- consent --------------------------------------------------------------------------------------

async function loadConsent() {
  state.consent = await getJson("/v1/consent");
  $("consent-attest").hidden = state.consent.mode !== "attest";
  $("consent-spoken").hidden = state.consent.mode !== "spoken";
  if (state.consent.mode === "attest") showStatement();
  if (state.consent.mode === "spoken") await newChallenge();
}

/** The statement consent=true confirms: the server's own (versioned) words, with a
 * translation when the UI speaks another language. */
function showStatement() {
  const official = state.consent?.statement ?? "";
  const translated = t(`statement_${state.consent?.statement_version}`);
  const known = translated !== `statement_${state.consent?.statement_version}`;
  $("consent-statement").textContent =
    known && language() !== "en" ? `${translated} (${official})` : official;
}

async function newChallenge() {
  const lang = language() === "ko" ? "ko" : "en";
  state.challenge = await (
    await request("POST", "/v1/consent/challenges", { json: { language: lang } })
  ).json();
  state.consentReading = null;
  $("challenge-text").textContent = state.challenge.text;
}

// -- recording ------------------------------------------------------------------------------------

function recorderControls(startId, stopId, elapsedId, onDone, meter) {
  const recorder = new Recorder({ elapsed: $(elapsedId), meter });
  $(startId).addEventListener("click", async () => {
    try {
      await recorder.start();
      $(startId).disabled = true;
      $(stopId).disabled = false;
      $(stopId).focus();
    } catch (error) {
      showError(t("micDenied", { reason: error.message }));
    }
  });
  $(stopId).addEventListener("click", async () => {
    if (!recorder.recording) return;
    const result = await recorder.stop();
    $(startId).disabled = false;
    $(stopId).disabled = true;
    $(startId).focus();
    onDone(result);
  });
}

// -- voices ---------------------------------------------------------------------------------------

async function onCreateVoice(event) {
  event.preventDefault();
  const message = $("create-message");
  const form = new FormData();
  form.append("name", $("voice-name").value.trim());
  const files = [...$("voice-sample").files];
  if (state.recording) form.append("files", state.recording.blob, "recording.webm");
  for (const file of files) form.append("files", file, file.name);
  if (!state.recording && !files.length) return say(message, t("needSample"), true);
  appendConsent(form);
  $("create-voice").disabled = true;
  say(message, t("creating"));
  const working = showProgressAfterASecond($("create-progress"));
  try {
    const voice = await (await request("POST", "/v1/voices", { form })).json();
    $("create-form").reset();
    state.recording = null;
    $("recorded").textContent = "";
    showStatement();
    if (state.consent?.mode === "spoken") await newChallenge();
    await loadVoices(voice.id); // selected before it is announced, so "Speak" uses it at once
    const advice = voice.quality ? ` ${voice.quality.advice}` : "";
    say(message, t("created", { name: voice.name }) + advice);
  } catch (error) {
    say(message, messageOf(error), true); // the API's own words, e.g. why a sample was refused
  } finally {
    working.done();
    $("create-voice").disabled = false;
  }
}

/** Shows an indeterminate progress bar if the work takes more than a second. */
function showProgressAfterASecond(bar) {
  const timer = setTimeout(() => (bar.hidden = false), 1000);
  return {
    done() {
      clearTimeout(timer);
      bar.hidden = true;
    },
  };
}

/** The consent fields a voice's recordings are sent with, as for creating one. */
function appendConsent(form) {
  if (state.consent?.mode === "attest" && $("consent").checked) form.append("consent", "true");
  if (state.consent?.mode === "spoken" && state.challenge) {
    form.append("consent_challenge", state.challenge.id);
    if (state.consentReading) form.append("consent_recording", state.consentReading, "consent.webm");
  }
}

async function addRecordings(voice, files, progress) {
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  appendConsent(form);
  announce(t("adding", { name: voice.name }));
  const working = showProgressAfterASecond(progress);
  try {
    const updated = await (
      await request("POST", `/v1/voices/${voice.id}/samples`, { form })
    ).json();
    if (state.consent?.mode === "spoken") await newChallenge();
    await loadVoices();
    announce(`${t("added", { name: updated.name })} ${updated.quality?.advice ?? ""}`.trim());
  } catch (error) {
    showError(messageOf(error));
  } finally {
    working.done();
  }
}

function qualityText(quality) {
  if (!quality) return "";
  const facts = t("qualityFacts", {
    speech: quality.speech_seconds.toFixed(1),
    snr: Math.round(quality.snr_db),
  });
  const similarity =
    quality.similarity == null ? "." : t("similarity", { value: quality.similarity.toFixed(2) });
  return `${facts}${similarity} ${quality.advice}`;
}

async function loadVoices(select = "") {
  const [{ voices }, openai] = await Promise.all([
    getJson("/v1/voices"),
    getJson("/v1/audio/voices"),
  ]);
  const list = $("voice-list");
  list.replaceChildren(...voices.map(voiceItem));
  $("no-voices").hidden = voices.length > 0;
  const chooser = $("speak-voice");
  const previous = select || chooser.value;
  chooser.replaceChildren();
  if (voices.length) chooser.append(group(t("yourVoices"), voices));
  const stock = openai.voices.filter((voice) => voice.type === "stock");
  chooser.append(group(t("stockVoices"), stock));
  const ids = [...chooser.options].map((option) => option.value);
  chooser.value = ids.includes(previous) ? previous : ids[0] ?? "";
}

function group(label, voices) {
  const optgroup = document.createElement("optgroup");
  optgroup.label = label;
  for (const voice of voices) optgroup.append(new Option(voice.name, voice.id));
  return optgroup;
}

function button(text, onClick, described) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  if (described) element.setAttribute("aria-describedby", described);
  element.addEventListener("click", onClick);
  return element;
}

function voiceItem(voice) {
  const item = document.createElement("li");
  const name = document.createElement("span");
  name.className = "name";
  name.id = `voice-${voice.id}`;
  name.textContent = voice.name;
  const preview = button(t("preview"), () => play($("preview-audio"), voice.preview_url), name.id);
  const rename = button(t("rename"), () => startRename(item, voice), name.id);
  const remove = button(t("deleteVoice"), () => deleteVoice(voice), name.id);
  const picker = document.createElement("input");
  picker.type = "file";
  picker.accept = "audio/*";
  picker.multiple = true;
  picker.hidden = true;
  picker.setAttribute("aria-label", t("addRecordingFor", { name: voice.name }));
  const progress = document.createElement("progress");
  progress.hidden = true;
  progress.setAttribute("aria-label", t("adding", { name: voice.name }));
  picker.addEventListener("change", () => addRecordings(voice, [...picker.files], progress));
  const add = button(t("addRecording"), () => picker.click(), name.id);
  const quality = document.createElement("p");
  quality.className = "hint quality";
  quality.textContent = qualityText(voice.quality);
  item.append(name, preview, rename, remove, add, picker, progress, quality);
  return item;
}

function play(audio, url) {
  audio.hidden = false;
  audio.src = url;
  audio.play().catch(() => {});
}

function startRename(item, voice) {
  const input = document.createElement("input");
  input.type = "text";
  input.value = voice.name;
  input.maxLength = 100;
  input.setAttribute("aria-label", t("newName", { name: voice.name }));
  const save = button(t("save"), async () => {
    try {
      const renamed = await (
        await request("PATCH", `/v1/voices/${voice.id}`, { json: { name: input.value } })
      ).json();
      announce(t("renamed", { name: renamed.name }));
      await loadVoices();
    } catch (error) {
      showError(messageOf(error));
    }
  });
  const cancel = button(t("cancel"), () => loadVoices());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") save.click();
    if (event.key === "Escape") cancel.click();
  });
  item.replaceChildren(input, save, cancel);
  input.focus();
}

async function deleteVoice(voice) {
  if (!window.confirm(t("confirmDeleteVoice", { name: voice.name }))) return;
  try {
    await request("DELETE", `/v1/voices/${voice.id}`);
    announce(t("deleted"));
    await loadVoices();
  } catch (error) {
    showError(messageOf(error));
  }
}

// -- speaking -------------------------------------------------------------------------------------

let audioContext = null;
let livePlayer = null;

function speechRequest() {
  return {
    text: $("speak-text").value,
    voice: $("speak-voice").value,
    language: $("speak-language").value || null,
    format: $("speak-format").value,
    speed: Number($("speak-speed").value) || 1,
  };
}

async function onSpeak(event) {
  event.preventDefault();
  showError("");
  const body = speechRequest();
  const result = $("result");
  result.hidden = true;
  delete result.dataset.firstSoundMs;
  delete result.dataset.doneMs;
  $("speak").disabled = true;
  try {
    if (body.text.length > LONG_TEXT_CHARS) await speakAsJob(body);
    else await speakLive(body);
  } finally {
    $("speak").disabled = false;
  }
}

async function speakLive(body) {
  const message = $("speak-message");
  const result = $("result");
  const audio = $("result-audio");
  const started = performance.now();
  const firstSound = () => {
    const ms = Math.round(performance.now() - started);
    result.dataset.firstSoundMs = String(ms);
  };
  let player = null;
  livePlayer?.stop?.();
  if (body.format === "wav") {
    audioContext ??= new AudioContext();
    await audioContext.resume();
    player = new LiveWavPlayer(audioContext, firstSound);
    livePlayer = player;
  } else if (LIVE_MIME[body.format] && LiveMediaSourcePlayer.supports(LIVE_MIME[body.format])) {
    result.hidden = false;
    player = new LiveMediaSourcePlayer(audio, LIVE_MIME[body.format], firstSound);
  }
  say(message, player ? t("speaking") : t("notLive"));
  let received = new Uint8Array(0);
  let dropped = false;
  try {
    const response = await request("POST", "/v1/speech", { json: body });
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received = concat(received, value);
      player?.feed(value.slice());
    }
  } catch (error) {
    if (!(error instanceof ApiError) && received.length) {
      dropped = true;
    } else {
      return say(message, messageOf(error), true);
    }
  }
  player?.finish();
  result.dataset.doneMs = String(Math.round(performance.now() - started));
  const blob = new Blob([received], { type: mimeOf(body.format) });
  const url = URL.createObjectURL(blob);
  if (!(player instanceof LiveMediaSourcePlayer)) audio.src = url;
  if (!player) audio.play().catch(() => {});
  offerDownload(url, `voiceclone-${Date.now()}.${EXTENSIONS[body.format]}`);
  result.hidden = false;
  if (dropped) return say(message, t("streamDropped"), true);
  const spoken = t("spoken", { seconds: durationOf(received, body.format) });
  const first = result.dataset.firstSoundMs;
  say(message, first ? `${spoken} ${t("firstSound", { ms: first })}` : spoken);
}

const MIME_TYPES = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  aac: "audio/aac",
  opus: "audio/ogg",
  flac: "audio/flac",
};

function mimeOf(format) {
  return MIME_TYPES[format];
}

function durationOf(bytes, format) {
  const header = format === "wav" ? parseWavHeader(bytes) : null;
  if (!header) return "…";
  return ((bytes.length - header.dataStart) / 2 / header.sampleRate).toFixed(1);
}

function offerDownload(url, filename) {
  const link = $("download");
  link.href = url;
  link.download = filename;
}

async function speakAsJob(body) {
  const message = $("speak-message");
  const box = $("job-progress-box");
  const bar = $("job-progress");
  try {
    let job = await (await request("POST", "/v1/jobs", { json: body })).json();
    box.hidden = false;
    bar.value = 0;
    while (job.status === "queued" || job.status === "running") {
      bar.value = job.progress_percent;
      const waiting = job.status === "queued" && job.queue_position;
      say(
        message,
        waiting
          ? t("jobWaiting", { position: job.queue_position })
          : t("jobQueued", { percent: Math.round(job.progress_percent) }),
      );
      await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
      job = await getJson(`/v1/jobs/${job.id}`);
    }
    bar.value = 100;
    if (job.status !== "succeeded") {
      return say(message, t("jobFailed", { message: job.error?.message ?? job.status }), true);
    }
    const audio = $("result-audio");
    audio.src = job.urls.audio;
    offerDownload(`${job.urls.audio}&download=true`, `${job.id}.${EXTENSIONS[job.format]}`);
    $("result").hidden = false;
    $("result").dataset.jobId = job.id;
    say(message, t("jobDone"));
  } catch (error) {
    say(message, messageOf(error), true);
  } finally {
    await loadJobs();
  }
}

// -- past jobs ------------------------------------------------------------------------------------

async function loadJobs() {
  const { jobs } = await getJson("/v1/jobs");
  $("job-list").replaceChildren(...jobs.map(jobItem));
  $("no-jobs").hidden = jobs.length > 0;
}

function jobItem(job) {
  const item = document.createElement("li");
  const label = document.createElement("span");
  label.className = "name";
  label.id = `job-${job.id}`;
  const text = document.createElement("span");
  text.className = "job-text";
  text.textContent = job.text_start;
  const details = document.createElement("span");
  details.className = "job-details";
  const status = t(`status${job.status[0].toUpperCase()}${job.status.slice(1)}`);
  const when = new Date(job.created_at).toLocaleString(language(), {
    dateStyle: "medium",
    timeStyle: "short",
  });
  const parts = job.duration_seconds == null ? [when, status] : [formatDuration(job.duration_seconds), when, status];
  details.textContent = parts.join(" · ");
  label.append(text, details);
  item.append(label);
  if (job.status === "succeeded") {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.hidden = true;
    item.append(button(t("play"), () => play(audio, job.urls.audio), label.id));
    const link = document.createElement("a");
    link.className = "button";
    link.href = `${job.urls.audio}&download=true`;
    link.download = `${job.id}.${EXTENSIONS[job.format]}`;
    link.textContent = t("download");
    link.setAttribute("aria-describedby", label.id);
    item.append(link, audio);
  }
  item.append(button(t("deleteJob"), () => deleteJob(job), label.id));
  return item;
}

function formatDuration(seconds) {
  const whole = Math.max(1, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, "0")}`;
}

async function deleteJob(job) {
  if (!window.confirm(t("confirmDeleteJob"))) return;
  try {
    await request("DELETE", `/v1/jobs/${job.id}`);
    announce(t("deleted"));
  } catch (error) {
    showError(messageOf(error));
  } finally {
    await loadJobs();
  }
}

// -- language -------------------------------------------------------------------------------------

function applyLanguage(code) {
  const text = $("speak-text");
  const wasExample = !text.value || text.value === t("exampleText");
  setLanguage(code);
  $("reading-text").textContent = t("readingText");
  if (state.consent?.mode === "attest") showStatement();
  if (wasExample) text.value = t("exampleText");
  if (state.owner) {
    $("who").textContent = t("signedInAs", { owner: state.owner });
    loadVoices().catch(() => {});
    loadJobs().catch(() => {});
  }
}

// -- start ----------------------------------------------------------------------------------------

async function start() {
  applyLanguage(initialLanguage());
  for (const choice of document.querySelectorAll("button.lang")) {
    choice.addEventListener("click", () => applyLanguage(choice.dataset.lang));
  }
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", onSignOut);
  $("create-form").addEventListener("submit", onCreateVoice);
  $("speak-form").addEventListener("submit", onSpeak);
  recorderControls("record", "stop", "elapsed", (result) => {
    state.recording = result;
    $("recorded").textContent = t("recordedSeconds", { seconds: result.seconds.toFixed(1) });
  }, $("level"));
  // Playing the finished result (or a preview) stops what is still playing live.
  for (const id of ["result-audio", "preview-audio"]) {
    $(id).addEventListener("play", () => livePlayer?.stop());
  }
  recorderControls("record-consent", "stop-consent", "consent-elapsed", (result) => {
    state.consentReading = result.blob;
  });
  whenSessionEnds((error) => {
    showSignIn(error.code === "session_expired" ? error.message : t("sessionEnded"));
  });
  const session = await resume();
  if (session.signedOut) {
    showSignIn(session.code === "session_expired" ? session.message : "");
  } else {
    await showApp(session.owner);
  }
}

start().catch((error) => showError(messageOf(error)));
