// Runs before the page is drawn (a blocking script in <head>, never inline: the CSP allows
// scripts from this origin only). Marks the page as one with JavaScript, so the stylesheets can
// fold away what a script will open on request (the search filters on a phone) without a flash.
document.documentElement.className += " js";
