// The subject's phone page: login, check-in with a selfie burst and location, roll calls.
// Plain JS for weak phones; the token lives only for this tab (sessionStorage).
"use strict";
const API = "/api/v1/m";
const $ = (id) => document.getElementById(id);
const PROMPTS = {turn_left: "请缓慢向左转头，再转回正面", turn_right: "请缓慢向右转头，再转回正面", nod: "请缓慢点头"};
let token = sessionStorage.getItem("zj_token");
let pollTimer = null;

function say(text, ok) { const m = $("message"); m.textContent = text || ""; m.className = ok ? "ok" : "bad"; }
function show(view) { for (const v of ["login-view", "home-view", "capture-view"]) $(v).hidden = v !== view; $("logout").hidden = view === "login-view"; }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {}, token ? {Authorization: "Bearer " + token} : {});
  const res = await fetch(API + path, Object.assign({}, options, {headers}));
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) { logout(); throw new Error(body.message || "请重新登录"); }
  if (!res.ok) throw new Error(body.message || ("请求失败 " + res.status));
  return body;
}

function logout() { token = null; sessionStorage.removeItem("zj_token"); clearInterval(pollTimer); $("login-form").reset(); show("login-view"); }

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const r = await api("/login", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({id_number: f.get("id_number").trim(), password: f.get("password")})});
    token = r.access_token; sessionStorage.setItem("zj_token", token); say("", true); home();
  } catch (err) { say(err.message); }
});
// 退出: end the session on the server too (the token stops working at once), then forget it here.
async function signOut() {
  const old = token;
  logout();
  if (old) await fetch(API + "/logout", {method: "POST", headers: {Authorization: "Bearer " + old}}).catch(() => {});
  say("已退出登录", true);
}
$("logout").addEventListener("click", signOut);

function home() { show("home-view"); refreshRollcalls(); clearInterval(pollTimer); pollTimer = setInterval(refreshRollcalls, 30000); }

async function refreshRollcalls() {
  try {
    const calls = await api("/rollcalls/pending");
    const box = $("rollcalls"); box.textContent = "";
    for (const c of calls) {
      const div = document.createElement("div"); div.className = "rollcall";
      const left = Math.max(0, Math.round((new Date(c.deadline) - Date.now()) / 60000));
      div.textContent = "视频点名：请在 " + left + " 分钟内应答 ";
      const b = document.createElement("button"); b.textContent = "立即应答";
      b.addEventListener("click", () => capture("/rollcalls/" + c.id + "/answer"));
      div.appendChild(b); box.appendChild(div);
    }
  } catch (err) { say(err.message); }
}
$("checkin").addEventListener("click", () => capture("/checkins"));

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition((p) => resolve(p.coords), () => resolve(null), {timeout: 8000, maximumAge: 60000});
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function capture(path) {
  const challenge = ["turn_left", "turn_right", "nod"][Math.floor(Math.random() * 3)];
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "user", width: 640, height: 480}, audio: false}); }
  catch (err) { say("无法打开摄像头：" + err.message); return; }
  show("capture-view"); $("prompt").textContent = "请正对镜头";
  const video = $("video"); video.srcObject = stream; await video.play(); await sleep(800);
  const coords = position();
  const canvas = $("canvas"); canvas.width = video.videoWidth || 640; canvas.height = video.videoHeight || 480;
  const frames = [];
  for (let i = 0; i < 8; i++) {
    if (i === 2) $("prompt").textContent = PROMPTS[challenge];
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    frames.push(await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.85)));
    await sleep(350);
  }
  stream.getTracks().forEach((t) => t.stop());
  $("prompt").textContent = "正在比对……";
  const form = new FormData();
  frames.forEach((b, i) => form.append("images", b, "frame" + i + ".jpg"));
  form.append("challenge", challenge);
  // Only the preview is mirrored (CSS); the canvas draws the camera's own, un-mirrored frames.
  form.append("mirrored", "false");
  const c = await coords;
  if (c) { form.append("lat", c.latitude); form.append("lon", c.longitude); }
  try {
    const r = await api(path, {method: "POST", body: form});
    const ok = r.matched === true || r.status === "answered_matched";
    say(ok ? "签到成功" : ("未通过：" + (r.reason || r.status)), ok);
  } catch (err) { say(err.message); }
  home();
}

if (token) home(); else show("login-view");
