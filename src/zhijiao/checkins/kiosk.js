// The kiosk's camera: open it, count down, capture a burst, upload it with the server's challenge.
// The page (checkins/ui.py) calls zhijiaoKiosk.capture(...); the answer comes back to Python as
// the "kiosk_result" event. An ID-card reader agent calls window.zhijiaoIdCard({name, id_number,
// photo_base64}); the chip photo then goes with the check-in for 人证比对.
(function () {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const setText = (id, text) => {
    const el = document.getElementById(id);
    if (el) el.textContent = text;
  };
  const cameraMessage = (error) => {
    const name = (error && error.name) || "";
    if (name === "NotAllowedError") return "摄像头未获授权，请联系工作人员";
    if (name === "NotFoundError" || name === "OverconstrainedError") return "未检测到摄像头，请联系工作人员";
    return "摄像头无法使用：" + (error && error.message ? error.message : name || "未知错误");
  };
  const fromBase64 = (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Blob([bytes], { type: "image/jpeg" });
  };

  window.zhijiaoKiosk = {
    stream: null,
    chip: null,
    busy: false,

    async open() {
      const video = document.getElementById("kiosk-video");
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      video.srcObject = this.stream;
      await video.play();
      return video;
    },

    close() {
      if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
      this.stream = null;
    },

    forget() {
      this.chip = null;
      this.close();
    },

    async capture(p) {
      if (this.busy) return;
      this.busy = true;
      try {
        const video = await this.open();
        for (let n = p.countdown; n > 0; n--) {
          setText("kiosk-countdown", String(n));
          await sleep(1000);
        }
        setText("kiosk-countdown", "请做动作");
        const canvas = document.createElement("canvas");
        canvas.width = video.videoWidth || 640;
        canvas.height = video.videoHeight || 480;
        const ctx = canvas.getContext("2d");
        const frames = [];
        for (let i = 0; i < p.frames; i++) {
          ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
          frames.push(await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85)));
          await sleep(p.interval);
        }
        this.close();
        setText("kiosk-countdown", "正在比对，请稍候…");
        const form = new FormData();
        form.append("source", "kiosk");
        form.append("id_number", p.id_number);
        form.append("nonce", p.nonce);
        frames.forEach((blob, i) => form.append("images", blob, "frame" + i + ".jpg"));
        if (this.chip) form.append("id_card_photo", fromBase64(this.chip), "chip.jpg");
        let status = 0;
        let body = { message: "网络异常，请重试" };
        try {
          const response = await fetch("/api/v1/checkins", {
            method: "POST", headers: { Authorization: "Bearer " + p.token }, body: form,
          });
          status = response.status;
          body = await response.json().catch(() => ({ message: "服务器无响应，请重试" }));
        } catch (e) {
          body = { message: "网络异常，请重试" };
        }
        emitEvent("kiosk_result", { status: status, body: body });
      } catch (error) {
        this.close();
        emitEvent("kiosk_result", { status: 0, body: { message: cameraMessage(error) } });
      } finally {
        this.chip = null;
        this.busy = false;
      }
    },
  };

  window.zhijiaoIdCard = function (card) {
    window.zhijiaoKiosk.chip = (card && card.photo_base64) || null;
    emitEvent("kiosk_idcard", { name: (card && card.name) || "", id_number: (card && card.id_number) || "" });
  };
})();
