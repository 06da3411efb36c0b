// Keyboard access the components do not give by themselves (tests/e2e/test_pages_accessibility.py).
(function () {
  // 1. When a dialog, drawer or menu closes, focus goes back to what opened it (WCAG 2.4.3). Radix does this only
  //    for its own Trigger; our dialogs open from state (a button elsewhere sets `open`), so without this the
  //    focus fell to <body> and a keyboard user started again from the top of the page.
  var OVERLAY = '[role="dialog"], [role="alertdialog"], [role="menu"]';
  var lastOutside = null;
  var overlayOpen = false;
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof Element && target !== document.body && !target.closest(OVERLAY)) lastOutside = target;
  }, true);

  // 2. A region that scrolls sideways (a wide table on a phone) can be scrolled with the arrow keys: it takes focus
  //    (WCAG 2.1.1). Radix's ScrollArea viewport does not, nor a box with class scroll-x (overflow-x: auto).
  function focusableScrollers() {
    var viewports = document.querySelectorAll(
      "[data-radix-scroll-area-viewport]:not([tabindex]), .scroll-x:not([tabindex])");
    for (var i = 0; i < viewports.length; i++) viewports[i].setAttribute("tabindex", "0");
  }

  var pending = false;
  new MutationObserver(function () {
    var open = document.querySelector(OVERLAY) !== null;
    if (overlayOpen && !open) {
      setTimeout(function () {
        var active = document.activeElement;
        if ((!active || active === document.body) && lastOutside && lastOutside.isConnected) lastOutside.focus();
      }, 0);
    }
    overlayOpen = open;
    if (!pending) {
      pending = true;
      requestAnimationFrame(function () { pending = false; focusableScrollers(); });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
