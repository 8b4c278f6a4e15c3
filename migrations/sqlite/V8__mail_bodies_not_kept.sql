-- A sent mail's body is dropped at delivery from now on (it may hold a
-- password-reset or confirmation link); drop those already kept.
UPDATE mail_queue SET body_text = '', body_html = '' WHERE status = 'sent';
