// The office's face enrolment camera (/subjects/{id}/face). The page (checkins/enrolment/ui.py)
// calls zhijiaoFace.start({interval}); every `interval` ms one frame goes to the server as the
// "face_frame" event (a JPEG, base64) for the quality gate; the server keeps the last frame that
// passed and enrols it when the officer presses 采集. Frames are sent un-mirrored; only the
// preview is shown as a mirror. Nothing here talks to the API directly.
(function () {
  const cameraMessage = (error) => {
    const name = (error && error.name) || "";
    if (name === "NotAllowedError") return "浏览器未允许使用摄像头，请在地址栏旁允许后重试";
    if (name === "NotFoundError" || name === "OverconstrainedError") return "未检测到摄像头，请连接摄像头或改用上传照片";
    if (name === "NotReadableError") return "摄像头被其他程序占用，请关闭后重试";
    if (!navigator.mediaDevices) return "当前浏览器不支持摄像头（需使用 https 或本机地址访问），请改用上传照片";
    return "摄像头无法使用：" + (error && error.message ? error.message : name || "未知错误");
  };

  window.zhijiaoFace = {
    stream: null,
    timer: null,

    async start(p) {
      this.stop();
      const video = document.getElementById("face-video");
      try {
        if (!navigator.mediaDevices) throw new Error("");
        this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
        video.srcObject = this.stream;
        await video.play();
      } catch (error) {
        this.stop();
        emitEvent("face_camera", { ok: false, message: cameraMessage(error) });
        return;
      }
      emitEvent("face_camera", { ok: true, message: "" });
      const canvas = document.createElement("canvas");
      const send = () => {
        if (!this.stream || !video.videoWidth) return;
        // At most 800 px wide: a frame must stay well under the socket's 1 MB message limit.
        const scale = Math.min(1, 800 / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
        const data = canvas.toDataURL("image/jpeg", 0.92);
        emitEvent("face_frame", { image: data.slice(data.indexOf(",") + 1) });
      };
      setTimeout(send, 300);
      this.timer = setInterval(send, p.interval || 1500);
    },

    stop() {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
      this.stream = null;
      const video = document.getElementById("face-video");
      if (video) video.srcObject = null;
    },
  };
  window.addEventListener("beforeunload", () => window.zhijiaoFace.stop());
})();
