"""What Meta's channels share (Messenger, Instagram, Facebook page comments, WhatsApp Cloud
API): the webhook handshake and signature, and the Graph API's calls and refusals."""
