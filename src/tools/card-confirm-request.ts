import { cardRequestTool } from './lib/card-requests.js';

export default cardRequestTool('confirm', {
  name: 'card_confirm_request',
  title: 'Billing card: confirm a request',
  description: "Behind the billing card's Confirm button: the person confirms their refund, credit, pause, plan change or payment request, proven by the confirmation token only the card was given. Only the card calls it.",
});
