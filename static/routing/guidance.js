// "Hvad sker der nu?" on /vejledning/: names the Væksthus as soon as the company picks its
// municipality (and themes, which routing rules may depend on). Without JavaScript the box
// explains the rule in words, so nothing depends on this file.
(function () {
  "use strict";
  var preview = document.getElementById("hub-preview");
  var municipality = document.getElementById("id_municipality");
  if (!preview || !municipality || !window.fetch) {
    return;
  }
  var form = municipality.form;
  var url = preview.getAttribute("data-url");
  var template = preview.getAttribute("data-template");
  var latest = 0;

  function update() {
    if (!municipality.value) {
      return;
    }
    var params = new URLSearchParams();
    params.append("municipality", municipality.value);
    form.querySelectorAll("input[name='themes']:checked").forEach(function (box) {
      params.append("themes", box.value);
    });
    var request = ++latest;
    fetch(url + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data || request !== latest) {
          return;
        }
        preview.textContent = template
          .replace("%(name)s", data.hub.name)
          .replace("%(municipality)s", data.municipality);
      })
      .catch(function () {
        // Keep the explanation already on the page.
      });
  }

  municipality.addEventListener("change", update);
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "themes") {
      update();
    }
  });
  update();
})();
