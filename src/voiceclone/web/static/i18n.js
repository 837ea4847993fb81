// The UI's words in Korean and English. The browser's language chooses; the header switches.

const STRINGS = {
  en: {
    language: "Language",
    signOut: "Sign out",
    signInTitle: "Sign in",
    apiKey: "API key",
    apiKeyHint:
      "The server's operator makes one with: voiceclone keys create --owner NAME (in a checkout: scripts/run.sh keys create --owner NAME)",
    signIn: "Sign in",
    signedInAs: "Signed in as {owner}",
    sessionEnded: "Your session has ended. Sign in again with your API key.",
    createTitle: "Create a voice",
    voiceName: "Voice name",
    recordLegend: "Record with the microphone",
    readAloud: "Read this aloud:",
    readingText:
      "The quick brown fox jumps over the lazy dog. Today I am recording my voice, " +
      "reading a few sentences slowly and clearly, so that it can be cloned.",
    record: "Record",
    stop: "Stop",
    level: "Input level",
    recordedSeconds: "Recorded {seconds} s.",
    micDenied: "The microphone is not available: {reason}",
    voiceSample: "Voice sample",
    consent: "Consent",
    spokenConsent: "Spoken consent",
    readConsent: "The speaker reads this aloud:",
    recordConsent: "Start reading",
    stopConsent: "Finish reading",
    createVoice: "Create voice",
    creating: "Creating the voice…",
    created: "Voice “{name}” created.",
    addRecording: "Add another recording",
    addRecordingFor: "Another recording of “{name}”",
    adding: "Adding the recordings to “{name}”…",
    added: "Recordings added to “{name}”.",
    qualityFacts: "{speech} s of speech, noise {snr} dB below it",
    similarity: ", similarity {value}.",
    needSample: "Record yourself or choose a voice sample file first.",
    voicesTitle: "Your voices",
    noVoices: "No voices yet.",
    preview: "Preview",
    rename: "Rename",
    save: "Save",
    cancel: "Cancel",
    deleteVoice: "Delete",
    confirmDeleteVoice: "Delete the voice “{name}” and its recordings? This cannot be undone.",
    deleted: "Deleted.",
    renamed: "Renamed to “{name}”.",
    newName: "New name for “{name}”",
    speakTitle: "Speak",
    text: "Text",
    exampleText: "Hello! This is my cloned voice, speaking in real time.",
    voice: "Voice",
    stockVoices: "Stock voices",
    yourVoices: "Your voices",
    languageField: "Language",
    autoLanguage: "Detect",
    speed: "Speed",
    format: "Format",
    speak: "Speak",
    speaking: "Speaking…",
    spoken: "Done: {seconds} s of audio.",
    firstSound: "First sound after {ms} ms.",
    notLive: "This format plays once it is complete; WAV, MP3 and AAC play while they are made.",
    streamDropped:
      "The connection was lost while the audio was being made. What arrived is below; try again.",
    jobQueued: "Long text: made as a job. {percent}% done.",
    jobWaiting: "Long text: made as a job. Waiting: number {position} in the queue.",
    jobDone: "The job is done.",
    jobFailed: "The job failed: {message}",
    jobProgress: "Job progress",
    download: "Download",
    jobsTitle: "Past jobs",
    noJobs: "No jobs yet.",
    play: "Play",
    deleteJob: "Delete",
    confirmDeleteJob: "Delete this job and its audio?",
    statusQueued: "queued",
    statusRunning: "running",
    statusSucceeded: "done",
    statusFailed: "failed",
    statusCancelled: "cancelled",
    networkError: "The server cannot be reached. Check your connection and try again.",
  },
  ko: {
    language: "언어",
    signOut: "로그아웃",
    signInTitle: "로그인",
    apiKey: "API 키",
    apiKeyHint:
      "서버 운영자가 만듭니다: voiceclone keys create --owner 이름 (저장소에서는 scripts/run.sh keys create --owner 이름)",
    signIn: "로그인",
    signedInAs: "{owner} 님으로 로그인됨",
    sessionEnded: "세션이 끝났습니다. API 키로 다시 로그인하세요.",
    createTitle: "목소리 만들기",
    voiceName: "목소리 이름",
    recordLegend: "마이크로 녹음하기",
    readAloud: "다음 문장을 소리 내어 읽으세요:",
    readingText:
      "안녕하세요. 지금 제 목소리를 녹음하고 있습니다. 천천히 또박또박 몇 문장을 읽으면 " +
      "제 목소리를 복제할 수 있습니다.",
    record: "녹음",
    stop: "정지",
    level: "입력 음량",
    recordedSeconds: "{seconds}초 녹음했습니다.",
    micDenied: "마이크를 사용할 수 없습니다: {reason}",
    voiceSample: "목소리 샘플",
    consent: "동의",
    "statement_attest-v1":
      "이 녹음의 목소리가 제 목소리이거나, 그 화자에게서 복제에 대한 명시적인 허락을 받았으며, " +
      "복제된 목소리를 누군가를 속이거나 사기를 치거나 해치는 데 쓰지 않을 것을 확인합니다.",
    spokenConsent: "음성 동의",
    readConsent: "화자가 다음 문장을 소리 내어 읽습니다:",
    recordConsent: "읽기 시작",
    stopConsent: "읽기 끝",
    createVoice: "목소리 만들기",
    creating: "목소리를 만드는 중…",
    created: "목소리 “{name}”을(를) 만들었습니다.",
    addRecording: "녹음 추가하기",
    addRecordingFor: "“{name}”의 녹음 추가",
    adding: "“{name}”에 녹음을 추가하는 중…",
    added: "“{name}”에 녹음을 추가했습니다.",
    qualityFacts: "음성 {speech}초, 잡음은 음성보다 {snr} dB 낮음",
    similarity: ", 유사도 {value}.",
    needSample: "먼저 녹음하거나 목소리 샘플 파일을 고르세요.",
    voicesTitle: "내 목소리",
    noVoices: "아직 목소리가 없습니다.",
    preview: "미리 듣기",
    rename: "이름 바꾸기",
    save: "저장",
    cancel: "취소",
    deleteVoice: "삭제",
    confirmDeleteVoice: "목소리 “{name}”와(과) 녹음을 삭제할까요? 되돌릴 수 없습니다.",
    deleted: "삭제했습니다.",
    renamed: "이름을 “{name}”(으)로 바꿨습니다.",
    newName: "“{name}”의 새 이름",
    speakTitle: "말하기",
    text: "텍스트",
    exampleText: "안녕하세요! 제 복제된 목소리로 실시간으로 말하고 있습니다.",
    voice: "목소리",
    stockVoices: "기본 목소리",
    yourVoices: "내 목소리",
    languageField: "언어",
    autoLanguage: "자동 감지",
    speed: "속도",
    format: "형식",
    speak: "말하기",
    speaking: "말하는 중…",
    spoken: "완료: 오디오 {seconds}초.",
    firstSound: "{ms} ms 만에 첫 소리가 났습니다.",
    notLive: "이 형식은 완성된 뒤에 재생됩니다. WAV, MP3, AAC는 만들어지는 동안 재생됩니다.",
    streamDropped: "오디오를 만드는 중에 연결이 끊겼습니다. 받은 부분은 아래에 있습니다. 다시 시도하세요.",
    jobQueued: "긴 텍스트라서 작업으로 만듭니다. {percent}% 완료.",
    jobWaiting: "긴 텍스트라서 작업으로 만듭니다. 대기 순서: {position}번째.",
    jobDone: "작업이 끝났습니다.",
    jobFailed: "작업이 실패했습니다: {message}",
    jobProgress: "작업 진행률",
    download: "다운로드",
    jobsTitle: "지난 작업",
    noJobs: "아직 작업이 없습니다.",
    play: "재생",
    deleteJob: "삭제",
    confirmDeleteJob: "이 작업과 오디오를 삭제할까요?",
    statusQueued: "대기 중",
    statusRunning: "진행 중",
    statusSucceeded: "완료",
    statusFailed: "실패",
    statusCancelled: "취소됨",
    networkError: "서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도하세요.",
  },
};

const STORAGE_KEY = "voiceclone.language";
let current = "en";

export function initialLanguage() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && saved in STRINGS) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}

export function language() {
  return current;
}

export function t(key, values = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** Switch the UI language and rewrite every element marked with data-i18n. */
export function setLanguage(code, root = document) {
  current = code in STRINGS ? code : "en";
  localStorage.setItem(STORAGE_KEY, current);
  root.documentElement.lang = current;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nLabel));
  }
  for (const button of root.querySelectorAll("button.lang")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === current));
  }
}
