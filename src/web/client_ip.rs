//! The `ClientIp` request guard.

use rocket::request::{FromRequest, Outcome, Request};

/// The client address as Rocket sees it (through `ip_header` when configured).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientIp {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let ip = req
            .client_ip()
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        Outcome::Success(ClientIp(ip))
    }
}
