#!/usr/bin/env node
/*
 * End-to-end conversation runner: plays readable conversation scripts (YAML or JSON) against the
 * running skill over HTTP with virtual-alexa, and prints one JSON line per step.
 *
 *   node tests/e2e/runner.js --url http://127.0.0.1:5000/ tests/e2e/scripts/reflection.en-US.yaml [...]
 *
 * Options:
 *   --url URL       the skill endpoint (the server's `POST /`), required
 *   --repo DIR      the repository root (default: two folders above this file); the interaction
 *                   model is DIR/interaction_models/<locale>.json and the speech catalog used by
 *                   `says:` is DIR/skill/locales/<locale>/*.yaml
 *
 * Output (stdout, one JSON object per line):
 *   {"kind": "step", "script", "flow", "locale", "index", "action", "ok", "failures": [...],
 *    "sent": [every HTTP exchange of the step, including virtual-alexa's automatic AudioPlayer
 *    events], "response": {speech, ssml, reprompt, card, end_session, directives}, "player",
 *    "user_id", "ms"}
 *   {"kind": "summary", "script", "flow", "locale", "ok", "steps", "failed_steps", "user_id", "ms"}
 * Exit status: 0 when every step of every script passed, 1 when an expectation failed, 2 on a
 * usage or script error. Script format: docs/e2e.md.
 */
"use strict";

// aws-sdk v2 (a dependency of virtual-alexa) prints an end-of-support notice when it loads.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";

const fs = require("fs");
const path = require("path");

const STEP_KINDS = ["launch", "say", "intend", "playback", "end"];
const EXPECT_KEYS = new Set([
  "speech_contains", "speech_any", "speech_not_contains", "speech_empty", "ssml_contains",
  "says", "not_says", "reprompt_contains", "card_contains", "end_session", "directive",
  "directives", "no_directive", "no_directives", "elicit_slot", "audio", "player", "events",
]);

class ScriptError extends Error {}

function parseArgs(argv) {
  const out = { url: null, repo: path.resolve(__dirname, "..", ".."), scripts: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--url") out.url = argv[++i];
    else if (arg === "--repo") out.repo = path.resolve(argv[++i]);
    else if (arg === "-h" || arg === "--help") {
      process.stdout.write("usage: runner.js --url URL [--repo DIR] SCRIPT...\n");
      process.exit(0);
    } else if (arg.startsWith("--")) throw new ScriptError(`unknown option ${arg}`);
    else out.scripts.push(path.resolve(arg));
  }
  if (!out.url) throw new ScriptError("--url is required");
  if (out.scripts.length === 0) throw new ScriptError("give at least one script");
  return out;
}

function loadStructured(file) {
  const text = fs.readFileSync(file, "utf8");
  if (file.endsWith(".json")) return JSON.parse(text);
  return require("js-yaml").load(text);
}

// ------------------------------------------------------------------ the speech catalog (`says:`)

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function normalize(text) {
  return text.replace(/\s+/g, " ").trim().toLowerCase();
}

/** One matcher per catalog key: a RegExp per phrasing, `{placeholders}` matching any text. */
function loadCatalog(repo, locale) {
  const dir = path.join(repo, "skill", "locales", locale);
  const catalog = new Map();
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort()) {
    const doc = loadStructured(path.join(dir, name));
    for (const [key, phrasings] of Object.entries((doc && doc.messages) || {})) {
      const variants = (Array.isArray(phrasings) ? phrasings : [phrasings]).map((p) => {
        const parts = normalize(String(p)).split(/\{[a-z_][a-z0-9_]*\}/);
        return new RegExp(parts.map(escapeRegExp).join("[\\s\\S]+?"));
      });
      catalog.set(key, variants);
    }
  }
  return catalog;
}

/** Keys named by a `says:` entry: an exact key, or a prefix ending in `*`. */
function catalogKeys(catalog, pattern) {
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    const keys = [...catalog.keys()].filter((k) => k.startsWith(prefix));
    if (keys.length === 0) throw new ScriptError(`no catalog key starts with ${prefix}`);
    return keys;
  }
  if (!catalog.has(pattern)) throw new ScriptError(`no catalog key ${pattern}`);
  return [pattern];
}

function saysAny(catalog, pattern, text) {
  const plain = normalize(text);
  return catalogKeys(catalog, pattern).some((k) => catalog.get(k).some((re) => re.test(plain)));
}

// ------------------------------------------------------------------ responses

function ssmlToText(ssml) {
  return String(ssml || "")
    .replace(/<audio\b[^>]*>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"")
    .replace(/&apos;/g, "'").replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

function speechOf(outputSpeech) {
  if (!outputSpeech) return null;
  return outputSpeech.type === "SSML" ? outputSpeech.ssml : outputSpeech.text;
}

function summarizeDirective(d) {
  const out = { type: d.type };
  if (d.slotToElicit) out.slot = d.slotToElicit;
  if (d.updatedIntent) out.intent = d.updatedIntent.name;
  if (d.playBehavior) out.play_behavior = d.playBehavior;
  const stream = d.audioItem && d.audioItem.stream;
  if (stream) {
    out.token = stream.token;
    out.offset_ms = stream.offsetInMilliseconds;
    out.url = stream.url;
  }
  return out;
}

function summarizeResponse(json) {
  const r = (json && json.response) || {};
  const ssml = speechOf(r.outputSpeech);
  const reprompt = r.reprompt && speechOf(r.reprompt.outputSpeech);
  return {
    speech: ssml === null ? null : ssmlToText(ssml),
    ssml,
    reprompt: reprompt ? ssmlToText(reprompt) : null,
    card: r.card ? [r.card.title, r.card.content || r.card.text].filter(Boolean).join(" | ") : null,
    end_session: r.shouldEndSession === undefined ? null : r.shouldEndSession,
    directives: (r.directives || []).map(summarizeDirective),
  };
}

function summarizeRequest(json) {
  const req = json.request;
  const out = { type: req.type };
  if (req.intent) {
    out.intent = req.intent.name;
    const slots = {};
    for (const [name, slot] of Object.entries(req.intent.slots || {})) {
      if (slot && slot.value !== undefined) slots[name] = slot.value;
    }
    if (Object.keys(slots).length) out.slots = slots;
  }
  if (req.offsetInMilliseconds !== undefined) out.offset_ms = req.offsetInMilliseconds;
  if (req.reason) out.reason = req.reason;
  if (req.error) out.error = req.error;
  if (json.session) out.new_session = json.session.new;
  return out;
}

/** Platform rules every response must follow, whatever the script expects. */
function invariantFailures(request, response) {
  const failures = [];
  const r = (response && response.response) || {};
  const type = request.request.type;
  const directives = r.directives || [];
  const label = type + (request.request.intent ? ` ${request.request.intent.name}` : "");
  if (!response || response.version !== "1.0") failures.push(`${label}: response version is not "1.0"`);
  if (type.startsWith("AudioPlayer.") || type.startsWith("PlaybackController.")) {
    for (const field of ["outputSpeech", "card", "reprompt"]) {
      if (r[field]) failures.push(`${label}: reply to an AudioPlayer request carries ${field}`);
    }
    for (const d of directives) {
      if (!d.type.startsWith("AudioPlayer.")) {
        failures.push(`${label}: reply to an AudioPlayer request carries directive ${d.type}`);
      }
    }
  }
  const plays = directives.filter((d) => d.type === "AudioPlayer.Play");
  if (plays.length > 1) failures.push(`${label}: more than one AudioPlayer.Play`);
  if (plays.length === 1 && type !== "AudioPlayer.PlaybackNearlyFinished" && r.shouldEndSession !== true) {
    failures.push(`${label}: AudioPlayer.Play without shouldEndSession=true`);
  }
  for (const d of plays) {
    const url = d.audioItem && d.audioItem.stream && d.audioItem.stream.url;
    if (!url || !url.startsWith("https://")) failures.push(`${label}: Play URL is not https: ${url}`);
  }
  if (directives.some((d) => d.type.startsWith("Dialog.")) && r.shouldEndSession === true) {
    failures.push(`${label}: Dialog directive with shouldEndSession=true`);
  }
  for (const [name, os] of [["outputSpeech", r.outputSpeech], ["reprompt", r.reprompt && r.reprompt.outputSpeech]]) {
    const s = speechOf(os);
    if (s === null || s === undefined) continue;
    if (s.length >= 8000) failures.push(`${label}: ${name} is ${s.length} characters (limit 8000)`);
    if (os.type === "SSML" && !/^<speak>[\s\S]*<\/speak>$/.test(s)) failures.push(`${label}: ${name} is not <speak>...</speak>`);
    for (const m of s.matchAll(/<break time="(\d+(?:\.\d+)?)(ms|s)"/g)) {
      const ms = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
      if (ms > 10000) failures.push(`${label}: <break> of ${ms} ms (limit 10 s)`);
    }
  }
  return failures;
}

// ------------------------------------------------------------------ expectations

function asList(value) {
  return Array.isArray(value) ? value : [value];
}

function checkExpect(expect, result, catalog, player) {
  const failures = [];
  const unknown = Object.keys(expect).filter((k) => !EXPECT_KEYS.has(k));
  if (unknown.length) throw new ScriptError(`unknown expect keys: ${unknown.join(", ")}`);
  const resp = result.response;
  const speech = resp ? resp.speech : null;
  const plain = normalize(speech || "");
  const has = (needle) => plain.includes(normalize(String(needle)));
  const show = speech === null ? "no speech" : JSON.stringify(speech);

  if (!resp) {
    return Object.keys(expect).filter((k) => k !== "player").length
      ? ["the step got no response"] : failures;
  }
  for (const needle of asList(expect.speech_contains || [])) {
    if (!has(needle)) failures.push(`speech lacks ${JSON.stringify(needle)}: ${show}`);
  }
  if (expect.speech_any && !asList(expect.speech_any).some(has)) {
    failures.push(`speech has none of ${JSON.stringify(expect.speech_any)}: ${show}`);
  }
  for (const needle of asList(expect.speech_not_contains || [])) {
    if (has(needle)) failures.push(`speech should not contain ${JSON.stringify(needle)}: ${show}`);
  }
  if (expect.speech_empty === true && speech) failures.push(`expected no speech: ${show}`);
  if (expect.speech_empty === false && !speech) failures.push("expected speech, got none");
  for (const needle of asList(expect.ssml_contains || [])) {
    if (!(resp.ssml || "").includes(needle)) failures.push(`SSML lacks ${JSON.stringify(needle)}: ${resp.ssml}`);
  }
  for (const key of asList(expect.says || [])) {
    if (!saysAny(catalog, key, speech || "")) failures.push(`speech is not a phrasing of ${key}: ${show}`);
  }
  for (const key of asList(expect.not_says || [])) {
    if (saysAny(catalog, key, speech || "")) failures.push(`speech should not be a phrasing of ${key}: ${show}`);
  }
  for (const needle of asList(expect.reprompt_contains || [])) {
    if (!normalize(resp.reprompt || "").includes(normalize(needle))) {
      failures.push(`reprompt lacks ${JSON.stringify(needle)}: ${JSON.stringify(resp.reprompt)}`);
    }
  }
  for (const needle of asList(expect.card_contains || [])) {
    if (!normalize(resp.card || "").includes(normalize(needle))) {
      failures.push(`card lacks ${JSON.stringify(needle)}: ${JSON.stringify(resp.card)}`);
    }
  }
  if ("end_session" in expect && resp.end_session !== expect.end_session) {
    failures.push(`shouldEndSession is ${resp.end_session}, expected ${expect.end_session}`);
  }
  const types = resp.directives.map((d) => d.type);
  const wanted = [...asList(expect.directive || []), ...asList(expect.directives || [])];
  for (const type of wanted) {
    if (!types.includes(type)) failures.push(`no ${type} directive (got ${JSON.stringify(types)})`);
  }
  for (const type of asList(expect.no_directive || [])) {
    if (types.includes(type)) failures.push(`unexpected ${type} directive`);
  }
  if (expect.no_directives === true && types.length) failures.push(`expected no directives, got ${JSON.stringify(types)}`);
  if (expect.elicit_slot !== undefined) {
    const elicit = resp.directives.find((d) => d.type === "Dialog.ElicitSlot");
    if (!elicit) failures.push(`no Dialog.ElicitSlot (got ${JSON.stringify(types)})`);
    else if (elicit.slot !== expect.elicit_slot) failures.push(`elicits slot ${elicit.slot}, expected ${expect.elicit_slot}`);
  }
  if (expect.audio) {
    const play = resp.directives.find((d) => d.type === "AudioPlayer.Play");
    if (!play) failures.push(`no AudioPlayer.Play (got ${JSON.stringify(types)})`);
    else {
      const a = expect.audio;
      if (a.token_contains && !String(play.token).includes(a.token_contains)) {
        failures.push(`audio token ${play.token} lacks ${a.token_contains}`);
      }
      if (a.offset_ms !== undefined && play.offset_ms !== a.offset_ms) {
        failures.push(`audio offset is ${play.offset_ms} ms, expected ${a.offset_ms}`);
      }
      if (a.url_suffix && !String(play.url).endsWith(a.url_suffix)) {
        failures.push(`audio url ${play.url} does not end with ${a.url_suffix}`);
      }
      if (a.play_behavior && play.play_behavior !== a.play_behavior) {
        failures.push(`playBehavior is ${play.play_behavior}, expected ${a.play_behavior}`);
      }
    }
  }
  if (expect.player !== undefined && player !== expect.player) {
    failures.push(`virtual player is ${player}, expected ${expect.player}`);
  }
  if (expect.events !== undefined) {
    const got = result.sent.map((s) => s.type).filter((t) => !/^(LaunchRequest|IntentRequest)$/.test(t));
    const want = asList(expect.events);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failures.push(`automatic events were ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
  }
  return failures;
}

// ------------------------------------------------------------------ running a script

function stepKind(step) {
  const kinds = STEP_KINDS.filter((k) => k in step);
  if (kinds.length !== 1) {
    throw new ScriptError(`a step needs exactly one of ${STEP_KINDS.join(", ")}: ${JSON.stringify(step)}`);
  }
  return kinds[0];
}

function describe(kind, step) {
  switch (kind) {
    case "launch": return "launch";
    case "say": return `say ${JSON.stringify(step.say)}`;
    case "intend": {
      const slots = Object.entries(step.intend.slots || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      return ["intend", step.intend.name, ...slots].join(" ");
    }
    case "playback": return `playback ${JSON.stringify(step.playback)}`;
    case "end": return `end session (${step.end || "USER_INITIATED"})`;
    default: return kind;
  }
}

async function perform(alexa, kind, step) {
  switch (kind) {
    case "launch":
      return alexa.launch();
    case "say":
      return alexa.utter(String(step.say));
    case "intend": {
      if (!step.intend || !step.intend.name) throw new ScriptError("intend needs a name");
      if (!step.why) throw new ScriptError(`intend ${step.intend.name} needs a "why:" (why not say:)`);
      const slots = {};
      for (const [k, v] of Object.entries(step.intend.slots || {})) slots[k] = String(v);
      return alexa.intend(step.intend.name, slots);
    }
    case "playback": {
      const p = step.playback || {};
      const player = alexa.audioPlayer();
      if (p.offset_ms !== undefined) {
        if (!player.isPlaying()) throw new Error("playback offset_ms: nothing is playing");
        player.playbackOffset(Number(p.offset_ms));
      }
      if (p.event === "nearly_finished") return player.playbackNearlyFinished();
      if (p.event === "finished") return player.playbackFinished();
      if (p.event !== undefined) throw new ScriptError(`unknown playback event ${p.event}`);
      return null;
    }
    case "end":
      return alexa.endSession(step.end || "USER_INITIATED");
    default:
      throw new ScriptError(`unknown step kind ${kind}`);
  }
}

/** virtual-alexa's player activity (a numeric enum) by name: IDLE, PLAYING, STOPPED, FINISHED... */
function playerName(activity) {
  const { AudioPlayerActivity } = require(path.join(
    virtualAlexaDir, "lib", "src", "audioPlayer", "AudioPlayer"));
  return AudioPlayerActivity[activity] || String(activity);
}

let virtualAlexaDir = null;

async function runScript(file, opts, emit) {
  virtualAlexaDir = path.join(opts.repo, "node_modules", "virtual-alexa");
  const { VirtualAlexa } = require(virtualAlexaDir);
  const script = loadStructured(file);
  const name = path.basename(file);
  const match = /^([a-z0-9-]+)\.([a-z]{2}-[A-Z]{2})\.(ya?ml|json)$/.exec(name);
  if (!match) throw new ScriptError(`${name}: scripts are named <flow>.<locale>.yaml`);
  const flow = script.flow || match[1];
  const locale = script.locale || match[2];
  if (locale !== match[2] || flow !== match[1]) {
    throw new ScriptError(`${name}: flow/locale in the file (${flow}/${locale}) differ from its name`);
  }
  if (!Array.isArray(script.steps) || script.steps.length === 0) throw new ScriptError(`${name}: no steps`);
  const catalog = loadCatalog(opts.repo, locale);
  const alexa = VirtualAlexa.Builder()
    .skillURL(opts.url)
    .interactionModelFile(path.join(opts.repo, "interaction_models", `${locale}.json`))
    .locale(locale)
    .create();

  // Record every HTTP exchange, the automatic AudioPlayer events included, with its invariants.
  let sent = [];
  let userId = null;
  const interactor = alexa.interactor();
  const invoke = interactor.invoke.bind(interactor);
  interactor.invoke = async (requestJSON) => {
    const entry = summarizeRequest(requestJSON);
    userId = requestJSON.context.System.user.userId;
    sent.push(entry);
    const t0 = process.hrtime.bigint();
    try {
      const response = await invoke(requestJSON);
      entry.ms = Number(process.hrtime.bigint() - t0) / 1e6;
      entry.status = 200;
      entry.failures = invariantFailures(requestJSON, response);
      if (requestJSON.request.type !== "LaunchRequest" && requestJSON.request.type !== "IntentRequest") {
        entry.response = summarizeResponse(response);
      }
      return response;
    } catch (err) {
      entry.error = String(err && err.message ? err.message : err);
      throw err;
    }
  };

  const started = Date.now();
  const failedSteps = [];
  let index = 0;
  for (const step of script.steps) {
    index += 1;
    const kind = stepKind(step);
    sent = [];
    const line = {
      kind: "step", script: name, flow, locale, index, action: describe(kind, step),
      note: step.why || step.note || undefined, ok: true, failures: [], sent,
      response: null, player: null, user_id: null, ms: 0,
    };
    const t0 = process.hrtime.bigint();
    let aborted = false;
    try {
      const json = await perform(alexa, kind, step);
      line.response = json && json.response !== undefined ? summarizeResponse(json) : null;
    } catch (err) {
      if (err instanceof ScriptError) throw err;
      line.failures.push(`request failed: ${err && err.message ? err.message : err}`);
      aborted = true;
    }
    line.ms = Number(process.hrtime.bigint() - t0) / 1e6;
    line.player = playerName(alexa.audioPlayer().playerActivity());
    line.user_id = userId;
    for (const s of sent) line.failures.push(...(s.failures || []));
    if (!aborted) line.failures.push(...checkExpect(step.expect || {}, line, catalog, line.player));
    line.ok = line.failures.length === 0;
    if (!line.ok) failedSteps.push(index);
    emit(line);
    if (aborted) break;
  }
  const summary = {
    kind: "summary", script: name, flow, locale, ok: failedSteps.length === 0,
    steps: script.steps.length, ran: index, failed_steps: failedSteps, user_id: userId,
    ms: Date.now() - started,
  };
  emit(summary);
  return summary.ok;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`runner: ${err.message}\n`);
    return 2;
  }
  const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
  let ok = true;
  for (const file of opts.scripts) {
    try {
      ok = (await runScript(file, opts, emit)) && ok;
    } catch (err) {
      if (!(err instanceof ScriptError) && !(err && err.name === "YAMLException")) throw err;
      process.stderr.write(`runner: ${path.basename(file)}: ${err.message}\n`);
      return 2;
    }
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`runner: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 2; },
);
