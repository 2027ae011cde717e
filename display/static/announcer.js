// Spoken calls, one after another: a call never cuts off the one being spoken.
// Browsers refuse sound until someone touches the page; the first refusal shows "Bật âm thanh",
// and the choice is remembered. On a kiosk-mode Chromium, start it with
// --autoplay-policy=no-user-gesture-required and the button never appears.
const SOUND_KEY = "hangdoi.display.sound";

export class Announcer {
  constructor({ serverVoice, key }) {
    this.serverVoice = serverVoice;
    this.key = key;
    this.queue = [];
    this.playing = null;
    this.log = [];        // what was announced, in order: tests and the curious read it
    document.body.classList.toggle("browser-voice", !serverVoice);
    document.getElementById("sound-on").addEventListener("click", () => this.unlock());
  }

  announce(call) {
    this.queue.push(call);
    this.log.push({ number: call.ticket.number, counter: call.counter.number, recall: call.recall,
                    state: "queued", at: Date.now() });
    this.next();
  }

  async next() {
    if (this.playing || !this.queue.length) return;
    const call = this.queue.shift();
    const entry = this.log.find((e) => e.state === "queued" && e.number === call.ticket.number);
    this.playing = call;
    if (entry) entry.state = "speaking";
    try {
      for (let i = 0; i < (call.repeat || 1); i += 1) await this.speak(call);
    } finally {
      if (entry) entry.state = "done";
      this.playing = null;
      this.next();
    }
  }

  speak(call) {
    if (!this.serverVoice || !call.audio) return this.browserVoice(call);
    // Announcements are built for registered displays only: this board's key says it is one.
    return this.play(`${call.audio}&d=${encodeURIComponent(this.key || "")}`);
  }

  play(url) {
    return new Promise((resolve) => {
      const audio = new Audio(url);
      audio.addEventListener("ended", resolve);
      audio.addEventListener("error", resolve);
      audio.play().catch((error) => {
        if (error.name === "NotAllowedError") document.body.classList.add("needs-sound");
        resolve();
      });
    });
  }

  async browserVoice(call) {
    await this.play("/display/audio/chime.wav");
    const voices = window.speechSynthesis ? speechSynthesis.getVoices() : [];
    const vietnamese = voices.find((v) => v.lang && v.lang.toLowerCase().startsWith("vi"));
    if (!vietnamese || !call.speech) return;
    await new Promise((resolve) => {
      const utterance = new SpeechSynthesisUtterance(call.speech);
      utterance.voice = vietnamese; utterance.lang = vietnamese.lang;
      utterance.onend = resolve; utterance.onerror = resolve;
      speechSynthesis.speak(utterance);
    });
  }

  unlock() {
    localStorage.setItem(SOUND_KEY, "on");
    document.body.classList.remove("needs-sound");
    this.play("/display/audio/chime.wav");
  }
}
