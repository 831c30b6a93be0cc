// The offer form in the admin. Select2's inline search box (the "cannot be combined with"
// picker) has no label of its own: give it the label of the select it stands for, also when
// Select2 draws the box anew after a choice.
(function () {
  "use strict";

  function labelSearchBoxes(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      var container = select.nextElementSibling;
      if (!label || !container) {
        return;
      }
      container.querySelectorAll(".select2-search__field").forEach(function (box) {
        if (!box.hasAttribute("aria-label")) {
          box.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    labelSearchBoxes(document);
    new MutationObserver(function () {
      labelSearchBoxes(document);
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
