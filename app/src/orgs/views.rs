//! Organisation pages: your organisations (switch, create), the current
//! organisation's members and invitations, and an invitation's own page.

use super::api::{
    invitation_offer, members_page, my_orgs, AcceptInvitation, ChangeRole, CreateOrg, InviteMember,
    LeaveOrg, RemoveMember, RevokeInvitation, SwitchOrg,
};
use super::{MembersData, OrgKind, Role};
use crate::error::AppError;
use crate::ui::fields::{page_action, Field, FormAlert};
use crate::ui::status::{failure, loaded, set_status};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn OrgsPage() -> impl IntoView {
    let create = page_action::<CreateOrg>();
    let switch = page_action::<SwitchOrg>();
    let orgs = Resource::new(
        move || (create.version().get(), switch.version().get()),
        |_| my_orgs(),
    );
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let switch_error = Signal::derive(move || switch.value().get().and_then(Result::err));
    view! {
        <Title text="Your organisations · Fairground"/>
        <section class="panel">
            <h1>"Your organisations"</h1>
            <FormAlert error=switch_error fields=&[]/>
            {loaded(orgs, move |data| match data {
                list if list.is_empty() => view! {
                    <p>"You do not belong to an organisation yet. Create one below, or accept an invitation."</p>
                }.into_any(),
                list => view! {
                    <ul class="org-list" aria-label="Your organisations">
                        {list.into_iter().map(|o| {
                            let label = format!("Switch to {}", o.name);
                            view! {
                                <li>
                                    <strong>{o.name.clone()}</strong>
                                    <span class="muted">
                                        {format!(" · {} · {}", o.kind.label(), o.role.label())}
                                        {o.staff_role.map(|s| format!(" · {}", s.label()))}
                                    </span>
                                    {if o.current {
                                        view! { <span class="badge">"Current"</span> }.into_any()
                                    } else {
                                        view! {
                                            <ActionForm action=switch attr:class="inline-form">
                                                <input type="hidden" name="org_id" value=o.id/>
                                                <button type="submit" class="small">{label}</button>
                                            </ActionForm>
                                        }.into_any()
                                    }}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <p><a href="/org/members">"Members of the current organisation"</a></p>
                }.into_any(),
            })}
            <h2>"Create an organisation"</h2>
            <FormAlert error fields=&["name", "kind"]/>
            <ActionForm action=create>
                <Field label="Name" name="name" input_type="text" autocomplete="organization" error/>
                <fieldset class="field">
                    <legend>"Kind"</legend>
                    <label><input type="radio" name="kind" value="partner" checked/>" Partner: publishes industry models"</label>
                    <label><input type="radio" name="kind" value="client"/>" Client: subscribes to models"</label>
                    <p class="field-error" id="kind-error">
                        {move || error.get().map(|e| e.messages_for("kind").join(" ")).unwrap_or_default()}
                    </p>
                </fieldset>
                <button type="submit">"Create organisation"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let invite = page_action::<InviteMember>();
    let revoke = page_action::<RevokeInvitation>();
    let change = page_action::<ChangeRole>();
    let remove = page_action::<RemoveMember>();
    let leave = page_action::<LeaveOrg>();
    let page = Resource::new(
        move || {
            (
                invite.version().get(),
                revoke.version().get(),
                change.version().get(),
                remove.version().get(),
                leave.version().get(),
            )
        },
        |_| members_page(),
    );
    let invite_error = Signal::derive(move || invite.value().get().and_then(Result::err));
    let other_error = Signal::derive(move || {
        [
            change.value().get(),
            remove.value().get(),
            leave.value().get(),
            revoke.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    });
    view! {
        <Title text="Members · Fairground"/>
        <section class="panel">
            <FormAlert error=other_error fields=&[]/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => members_view(p, invite, invite_error, change, remove, revoke, leave).into_any(),
                        Err(AppError::Forbidden) => view! {
                            <h1>"Members"</h1>
                            <p>"You are not working in an organisation. " <a href="/orgs">"Choose or create one"</a></p>
                        }.into_any(),
                        Err(err) => failure(err),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn members_view(
    p: MembersData,
    invite: ServerAction<InviteMember>,
    invite_error: Signal<Option<AppError>>,
    change: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveMember>,
    revoke: ServerAction<RevokeInvitation>,
    leave: ServerAction<LeaveOrg>,
) -> impl IntoView {
    let can_manage = p.can_manage;
    let me = p.me;
    let platform = p.org_kind == OrgKind::Platform;
    let leave_label = format!("Leave {}", p.org_name);
    view! {
        <h1>{format!("Members of {}", p.org_name)}</h1>
        <table class="members" aria-label="Members">
            <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th>{platform.then(|| view! { <th>"Staff role"</th> })}{can_manage.then(|| view! { <th>"Actions"</th> })}</tr></thead>
            <tbody>
                {p.members.into_iter().map(|m| {
                    let role_label = format!("Role of {}", m.display_name);
                    let change_label = format!("Change role of {}", m.display_name);
                    let remove_label = format!("Remove {}", m.display_name);
                    let select_id = format!("role-{}", m.user_id);
                    let select_for = select_id.clone();
                    view! {
                        <tr>
                            <td>{m.display_name}</td>
                            <td>{m.email}</td>
                            <td>{m.role.label()}</td>
                            {platform.then(|| view! { <td>{m.staff_role.map(|s| s.label())}</td> })}
                            {(can_manage && m.user_id != me).then(|| view! {
                                <td class="actions">
                                    <ActionForm action=change attr:class="inline-form">
                                        <input type="hidden" name="user_id" value=m.user_id/>
                                        <label class="visually-hidden" for=select_for>{role_label}</label>
                                        <select name="role" id=select_id>
                                            {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == m.role>{r.label()}</option> }).collect_view()}
                                        </select>
                                        <button type="submit" class="small">{change_label}</button>
                                    </ActionForm>
                                    <ActionForm action=remove attr:class="inline-form">
                                        <input type="hidden" name="user_id" value=m.user_id/>
                                        <button type="submit" class="small danger">{remove_label}</button>
                                    </ActionForm>
                                </td>
                            })}
                            {(can_manage && m.user_id == me).then(|| view! { <td></td> })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {p.new_invite_link.map(|link| view! {
            <div class="notice" role="status">
                <p>"Invitation created. Send this single-use link to the person invited (it is also in the outbox); it is shown only once:"</p>
                <p><code>{link}</code></p>
            </div>
        })}
        {can_manage.then(|| view! {
            <h2>"Invite someone"</h2>
            <FormAlert error=invite_error fields=&["email", "role", "staff_role"]/>
            <ActionForm action=invite>
                <Field label="Their email" name="email" input_type="email" autocomplete="off" error=invite_error/>
                <div class="field">
                    <label for="role">"Role"</label>
                    <select name="role" id="role">
                        <option value="member" selected>"Member"</option>
                        <option value="admin">"Admin"</option>
                        <option value="owner">"Owner"</option>
                    </select>
                    <p class="field-error" id="role-error">{move || invite_error.get().map(|e| e.messages_for("role").join(" ")).unwrap_or_default()}</p>
                </div>
                {platform.then(|| view! {
                    <div class="field">
                        <label for="staff_role">"Staff role"</label>
                        <select name="staff_role" id="staff_role">
                            <option value="referee">"Referee: reviews, audits, may read partner data"</option>
                            <option value="player">"Player: builds first-party listings, never sees partner data"</option>
                        </select>
                        <p class="field-error" id="staff_role-error">{move || invite_error.get().map(|e| e.messages_for("staff_role").join(" ")).unwrap_or_default()}</p>
                    </div>
                })}
                <button type="submit">"Create invitation"</button>
            </ActionForm>
            <h2>"Pending invitations"</h2>
            {if p.invitations.is_empty() {
                view! { <p>"None."</p> }.into_any()
            } else {
                view! {
                    <ul aria-label="Pending invitations">
                        {p.invitations.into_iter().map(|i| view! {
                            <li>
                                {format!("{} · {}", i.email, i.role.label())}
                                {i.staff_role.map(|s| format!(" · {}", s.label()))}
                                <ActionForm action=revoke attr:class="inline-form">
                                    <input type="hidden" name="invitation_id" value=i.id/>
                                    <button type="submit" class="small">{format!("Revoke invitation for {}", i.email)}</button>
                                </ActionForm>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        })}
        <h2>"Leave"</h2>
        <ActionForm action=leave>
            <button type="submit" class="danger">{leave_label}</button>
        </ActionForm>
    }
}

#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let accept = page_action::<AcceptInvitation>();
    let offer = Resource::new(token, invitation_offer);
    let accept_error = Signal::derive(move || accept.value().get().and_then(Result::err));
    view! {
        <Title text="Invitation · Fairground"/>
        <section class="panel">
            <FormAlert error=accept_error fields=&[]/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match offer.await {
                        Ok(o) => {
                            let role = match o.staff_role {
                                Some(s) => format!("{} ({})", o.role.label().to_lowercase(), s.label().to_lowercase()),
                                None => o.role.label().to_lowercase(),
                            };
                            view! {
                                <h1>{format!("Join {}", o.org_name)}</h1>
                                <p>{format!("This invitation is for {} to join as {role}.", o.email)}</p>
                                {if o.for_you {
                                    view! {
                                        <ActionForm action=accept>
                                            <input type="hidden" name="token" value=token()/>
                                            <button type="submit">"Accept invitation"</button>
                                        </ActionForm>
                                    }.into_any()
                                } else if o.signed_in {
                                    view! { <p>{format!("You are signed in with another address. Sign out, then sign in as {} to accept.", o.email)}</p> }.into_any()
                                } else {
                                    // Both come back here once signed in.
                                    let here = format!("/invitations/{}", token());
                                    let sign_up = crate::auth::next::with_next("/sign-up", Some(&here));
                                    let sign_in = crate::auth::next::with_next("/sign-in", Some(&here));
                                    view! {
                                        <p>
                                            {format!("Sign in as {} to accept, or ", o.email)}
                                            <a href=sign_up>"create an account"</a>
                                            " with that address: you come back to this page. "
                                            <a href=sign_in>"Sign in"</a>
                                        </p>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                        Err(AppError::NotFound) => {
                            set_status(http::StatusCode::NOT_FOUND);
                            view! {
                                <h1>"Invitation not valid"</h1>
                                <p>"This invitation link is not valid: it may have been used, revoked or expired. Ask for a new one."</p>
                            }.into_any()
                        }
                        Err(err) => failure(err),
                    }
                })}
            </Suspense>
        </section>
    }
}
