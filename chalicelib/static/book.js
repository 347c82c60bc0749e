// A project's hosted booking page: Timekit's widget in project mode. The API is the one that
// served this page (two levels up from /book/<slug>, whatever the deployment's base path).
// A customer's reschedule link adds ?reschedule=<booking id>&token=<link token>&start=&end=:
// the widget then shows its reschedule page and sends the token as Timekit-Customer-Token.
'use strict';
(function () {
  const target = document.getElementById('bookingjs');
  const params = new URLSearchParams(location.search);
  const config = {
    project_slug: target.dataset.projectSlug,
    api_base_url: new URL('../', location.href).href,
  };
  const booking = params.get('reschedule');
  if (booking) {
    config.reschedule = {
      uuid: booking, action: 'reschedule', eventStart: params.get('start'), eventEnd: params.get('end'),
    };
    config.sdk = { headers: { 'Timekit-Context': 'widget', 'Timekit-Customer-Token': params.get('token') || '' } };
  }
  new TimekitBooking().init(window.BookingMessages.withMessages(config));
}());
