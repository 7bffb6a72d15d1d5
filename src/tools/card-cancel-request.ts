import { cardRequestTool } from './lib/card-requests.js';

export default cardRequestTool('cancel', {
  name: 'card_cancel_request',
  title: 'Billing card: cancel a request',
  description: "Behind the billing card's Cancel button: the person cancels their request before it is carried out, proven by the confirmation token only the card was given. Only the card calls it.",
});
