// After django-otp-webauthn's script has added a key, go to the page the button names
// (the user's sign-in methods, which say the key was added).
document.addEventListener("otp_webauthn.register_complete", (event) => {
  const next = event.target.closest("[data-next]");
  if (next) window.location.assign(next.dataset.next);
});
