// django-otp-webauthn's scripts call gettext(); Django's catalogue view is replaced by this
// file so that every script is static (strict Content Security Policy). The words are the
// service's own (a "security key", never a "passkey").
(function () {
  var words = {
    "Verifying...": "Waiting for your security key",
    "Finishing verification...": "Checking your security key",
    "Verification successful!": "Security key accepted",
    "Verification aborted.": "You cancelled. Try again, or enter the code instead.",
    "Verification canceled or not allowed.": "You cancelled, or the key was not recognised. Try again, or enter the code instead.",
    "Registering...": "Waiting for your security key",
    "Finishing registration...": "Checking your security key",
    "Registration successful!": "Security key added",
    "Registration aborted.": "You cancelled. Try again when you are ready.",
    "Registration aborted or not allowed.": "You cancelled, or the key was not allowed. Try again when you are ready.",
    "Registration failed. You most likely already have a Passkey registered for this site.": "This security key is already added to your account."
  };
  window.gettext = function (text) {
    return Object.prototype.hasOwnProperty.call(words, text) ? words[text] : text;
  };
})();
