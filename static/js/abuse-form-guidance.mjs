// Progressive enhancement for the referral form: ticking a form of abuse opens its guidance
// (a GOV.UK details component); unticking closes it. Without JavaScript every form's guidance
// is still there to open, and the ticked ones are open whenever the page is redrawn.
for (const box of document.querySelectorAll('input[name="forms_of_abuse"]')) {
  box.addEventListener("change", () => {
    const details = document.querySelector(`details[data-abuse-form="${CSS.escape(box.value)}"]`);
    if (details) details.open = box.checked;
  });
}
