/** The one way mail leaves the process: nodemailer over SMTP_URL. */
import nodemailer from "nodemailer";

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<msg_…@host>`: the same on every attempt, so a receiver can drop a duplicate after a crash. */
  messageId: string;
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** SMTP_URL: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. */
export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    async send(mail) {
      await transporter.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
      });
    },
    close() {
      transporter.close();
    },
  };
}

/** How the server sends e-mail; `mailer: null` keeps every message in the Outbox page instead. */
export interface NotificationConfig {
  mailer: MailTransport | null;
  /** The From header. */
  from: string;
  /** Where links in e-mails point (the admin app's origin); set by the server once it listens. */
  publicUrl: string;
}
