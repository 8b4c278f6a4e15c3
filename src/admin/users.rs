//! Users (admins only): list, change role, deactivate/reactivate (which ends
//! their sessions), resend the confirmation mail.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::{admin_view, page_and_offset, PER_PAGE};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ground::dates;
use crate::mail::Mailer;
use crate::users::guards::AdminUser;
use crate::users::routes::send_confirmation;
use crate::users::tokens::Kind;
use crate::users::{session, store, Role};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::forms::Flag;
use crate::web::{Pagination, Site};

pub fn routes() -> Vec<Route> {
    routes![list, set_role, set_active, resend]
}

#[derive(Serialize)]
struct UserRow {
    id: i64,
    username: String,
    email: String,
    display_name: String,
    role: Role,
    is_active: bool,
    email_confirmed: bool,
    created_display: String,
    is_self: bool,
}

#[get("/admin/users?<page>")]
async fn list(
    db: &State<Db>,
    site: Site<'_>,
    me: AdminUser,
    page: Option<&str>,
) -> Result<Template> {
    let (page, offset) = page_and_offset(page, PER_PAGE)?;
    let my_id = me.0.user.id;
    let (users, total) = db
        .run(move |c| {
            let total = store::count(c)?;
            let users = store::list(c, PER_PAGE, offset)?
                .into_iter()
                .map(|u| UserRow {
                    is_self: u.id == my_id,
                    id: u.id,
                    created_display: dates::display(u.created_at),
                    username: u.username,
                    email: u.email,
                    display_name: u.display_name,
                    role: u.role,
                    is_active: u.is_active,
                    email_confirmed: u.email_confirmed,
                })
                .collect::<Vec<_>>();
            Ok((users, total))
        })
        .await?;
    let pager = Pagination::new(page, PER_PAGE, total, "/admin/users")?;
    Ok(admin_view(db, "admin/users.html", "users", &me.0)
        .await?
        .title("Users")
        .with("users", users)
        .with("roles", ["admin", "editor", "author", "member"])
        .with("pagination", pager)
        .render(&site))
}

#[derive(FromForm)]
struct RoleForm {
    #[field(default = String::new())]
    role: String,
}

fn done(message: &str) -> Flash<Redirect> {
    Flash::success(Redirect::to("/admin/users"), message)
}

fn refused(message: &str) -> Flash<Redirect> {
    Flash::error(Redirect::to("/admin/users"), message)
}

#[post("/admin/users/<id>/role", data = "<form>")]
async fn set_role(
    db: &State<Db>,
    _me: AdminUser,
    id: i64,
    form: CsrfForm<RoleForm>,
) -> Result<Flash<Redirect>> {
    let role =
        Role::parse(&form.into_inner().role).ok_or_else(|| Error::invalid("Unknown role."))?;
    let changed = db
        .run(move |c| {
            c.transaction(|c| {
                if role != Role::Admin && store::last_admin(c, id)? {
                    return Ok(false);
                }
                if !store::set_role(c, id, role, dates::now())? {
                    return Err(Error::NotFound);
                }
                Ok(true)
            })
        })
        .await?;
    Ok(if changed {
        done("The role is changed.")
    } else {
        refused("The site needs at least one active admin.")
    })
}

#[derive(FromForm)]
struct ActiveForm {
    active: Flag,
}

#[post("/admin/users/<id>/active", data = "<form>")]
async fn set_active(
    db: &State<Db>,
    me: AdminUser,
    id: i64,
    form: CsrfForm<ActiveForm>,
) -> Result<Flash<Redirect>> {
    let active = form.into_inner().active.0;
    if id == me.0.user.id && !active {
        return Ok(refused("You cannot deactivate your own account."));
    }
    let changed = db
        .run(move |c| {
            c.transaction(|c| {
                if !active
                    && store::last_admin(c, id)?
                    && store::by_id(c, id)?.is_some_and(|u| u.role == Role::Admin)
                {
                    return Ok(false);
                }
                if !store::set_active(c, id, active, dates::now())? {
                    return Err(Error::NotFound);
                }
                if !active {
                    session::delete_all(c, id)?;
                }
                Ok(true)
            })
        })
        .await?;
    Ok(match (changed, active) {
        (false, _) => refused("The site needs at least one active admin."),
        (true, true) => done("The account is active again."),
        (true, false) => done("The account is deactivated and signed out."),
    })
}

#[post("/admin/users/<id>/resend", data = "<_form>")]
async fn resend(
    db: &State<Db>,
    mailer: &State<Mailer>,
    site: Site<'_>,
    _me: AdminUser,
    id: i64,
    _form: CsrfForm<NoFields>,
) -> Result<Flash<Redirect>> {
    let (mailer, wake) = (mailer.inner().clone(), mailer.inner().clone());
    let settings = site.settings.clone();
    db.run(move |c| {
        let user = store::by_id(c, id)?.ok_or(Error::NotFound)?;
        if user.email_confirmed {
            return Err(Error::invalid("This address is already confirmed."));
        }
        c.transaction(|c| {
            send_confirmation(
                c,
                &mailer,
                &settings,
                user.id,
                &user.username,
                &user.email,
                Kind::ConfirmEmail,
            )
        })
    })
    .await?;
    wake.wake();
    Ok(done("A new confirmation mail is on its way."))
}
