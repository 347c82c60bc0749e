// A plain message when Timekit's booking widget fails to book or reschedule: "taken" for a 409
// (another customer got that time first), else the API's own message. The widget shows its own
// error panel ("Ouch, we've encountered a problem" and the raw answer as JSON); this puts the
// message in its place. It uses the widget's callbacks; the widget is unchanged.
//   new TimekitBooking().init(BookingMessages.withMessages({ app_key, project_id, ... }));
'use strict';
window.BookingMessages = {
  TAKEN: 'Sorry, that time was just taken by someone else. Please choose another time.',
  textFor(response) {
    const error = response && response.data && response.data.error;
    if (response && response.status === 409) return window.BookingMessages.TAKEN;
    return (error && error.message) || 'The booking did not go through. Please try again.';
  },
  show(text) {
    // The widget renders its error panel right after the callback returns.
    setTimeout(() => {
      const panel = document.querySelector('.bookingjs-error');
      if (panel) {
        const heading = panel.querySelector('.bookingjs-error-heading');
        heading.textContent = text;
        heading.classList.add('booking-message');
        heading.setAttribute('role', 'alert');
        panel.querySelector('.bookingjs-error-text').textContent = '';
        return;
      }
      const forms = document.querySelectorAll('.bookingjs-form');
      const form = forms[forms.length - 1];
      if (!form) return;
      const box = document.createElement('p');
      box.className = 'booking-message';
      box.setAttribute('role', 'alert');
      box.style.cssText = 'color:#c62828;font-weight:600;text-align:center;margin:16px;';
      box.textContent = text;
      form.parentNode.insertBefore(box, form);
    }, 0);
  },
  withMessages(config) {
    const callbacks = Object.assign({}, config.callbacks);
    for (const hook of ['createBookingFailed', 'submitReschduleBookingFailed']) {
      const given = callbacks[hook];
      callbacks[hook] = (response) => {
        window.BookingMessages.show(window.BookingMessages.textFor(response));
        if (given) given(response);
      };
    }
    return Object.assign({}, config, { callbacks });
  },
};
