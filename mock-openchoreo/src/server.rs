//! The running server and the cloneable handle that edits it while it runs.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::faults::Faults;
use crate::kind::Kind;
use crate::notify::{self, NotifyUrl};
use crate::oauth::{OAuthSettings, OAuthState, OAuthStats};
use crate::stats::{Recorder, Stats};
use crate::store::{MockError, Store};
use crate::summary::Summary;
use crate::synthetic::InstallationSpec;

/// How to start a [`MockServer`].
#[derive(Clone, Debug, Default)]
pub struct MockOptions {
    /// 0 picks an ephemeral port.
    pub port: u16,
    /// When set, every `/api/v1` request needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    pub spec: InstallationSpec,
    pub faults: Faults,
}

pub(crate) struct Shared {
    pub store: RwLock<Store>,
    pub faults: RwLock<Faults>,
    pub token: RwLock<Option<String>>,
    /// The token endpoint and the tokens it issued.
    pub oauth: Mutex<OAuthState>,
    pub stats: Recorder,
    /// Requests since faults were last set: the dice index, so runs are reproducible.
    pub fault_counter: AtomicU64,
    /// Where `/admin` edits POST their change events, if anywhere.
    pub notify: RwLock<Option<NotifyUrl>>,
}

/// Cloneable access to a running mock: edits, faults, stats. All methods are cheap
/// except `list_names` and `summary` with many edits.
#[derive(Clone)]
pub struct MockHandle {
    pub(crate) shared: Arc<Shared>,
}

impl MockHandle {
    fn new(opts: &MockOptions) -> MockHandle {
        MockHandle {
            shared: Arc::new(Shared {
                store: RwLock::new(Store::new(opts.spec.clone())),
                faults: RwLock::new(opts.faults),
                token: RwLock::new(opts.token.clone()),
                oauth: Mutex::new(OAuthState::default()),
                stats: Recorder::new(),
                fault_counter: AtomicU64::new(0),
                notify: RwLock::new(None),
            }),
        }
    }

    // ---- faults and auth ----

    pub fn faults(&self) -> Faults {
        *self.shared.faults.read().unwrap()
    }

    /// Replaces all faults and restarts the fault dice sequence.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.write().unwrap() = faults;
        self.shared.fault_counter.store(0, Ordering::SeqCst);
    }

    /// Changes some faults, keeping the others.
    pub fn update_faults(&self, change: impl FnOnce(&mut Faults)) {
        let mut f = self.faults();
        change(&mut f);
        self.set_faults(f);
    }

    /// Cursor lifetime; `Duration::ZERO` disables expiry.
    pub fn set_cursor_ttl(&self, ttl: Duration) {
        self.shared.faults.write().unwrap().cursor_ttl_ms = ttl.as_millis() as u64;
    }

    pub fn set_token(&self, token: Option<String>) {
        *self.shared.token.write().unwrap() = token;
    }

    // ---- change events ----

    /// Makes every successful `/admin` edit of an item or namespace POST its change
    /// event (`{kind, name, namespace?, action}`) to `url` (`http://` only), in the
    /// background; `None` stops it. Library edits (`put_item` and the like) send none.
    pub fn set_notify_url(&self, url: Option<&str>) -> Result<(), String> {
        let parsed = url.map(NotifyUrl::parse).transpose()?;
        *self.shared.notify.write().unwrap() = parsed;
        Ok(())
    }

    /// Whether `url` would be accepted by [`MockHandle::set_notify_url`].
    pub fn check_notify_url(url: &str) -> Result<(), String> {
        NotifyUrl::parse(url).map(drop)
    }

    pub fn notify_url(&self) -> Option<String> {
        self.shared.notify.read().unwrap().as_ref().map(|u| u.as_str().to_owned())
    }

    /// Publishes one edit's change event, if a notify URL is set.
    pub(crate) fn notify(&self, kind: &str, namespace: Option<&str>, name: &str, action: &str) {
        let to = self.shared.notify.read().unwrap().clone();
        if let Some(to) = to {
            notify::send(to, notify::event(kind, namespace, name, action));
        }
    }

    // ---- the OAuth2 token endpoint ----

    /// How `POST /oauth2/token` behaves and whether `/api/v1` requires its tokens.
    pub fn oauth(&self) -> OAuthSettings {
        self.shared.oauth.lock().unwrap().settings.clone()
    }

    /// Replaces the token endpoint's settings; issued tokens stay valid until they expire.
    pub fn set_oauth(&self, settings: OAuthSettings) -> Result<(), String> {
        settings.validate()?;
        self.shared.oauth.lock().unwrap().settings = settings;
        Ok(())
    }

    /// Changes some token endpoint settings, keeping the others.
    pub fn update_oauth(&self, change: impl FnOnce(&mut OAuthSettings)) -> Result<(), String> {
        let mut s = self.oauth();
        change(&mut s);
        self.set_oauth(s)
    }

    /// Registers a client and makes `/api/v1` require tokens issued to a client.
    pub fn require_client_credentials(
        &self,
        client_id: &str,
        client_secret: &str,
        lifetime: Duration,
    ) {
        self.update_oauth(|s| {
            s.clients
                .insert(client_id.to_owned(), client_secret.to_owned());
            s.require_tokens = true;
            s.token_lifetime_ms = lifetime.as_millis().max(1) as u64;
        })
        .expect("valid settings");
    }

    /// Every token issued so far expires now (the API answers 401 for it).
    pub fn expire_tokens(&self) {
        self.shared.oauth.lock().unwrap().expire_all();
    }

    pub fn oauth_stats(&self) -> OAuthStats {
        self.shared.oauth.lock().unwrap().stats()
    }

    pub fn reset_oauth_stats(&self) {
        self.shared.oauth.lock().unwrap().reset_stats();
    }

    // ---- stats and counts ----

    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    pub fn summary(&self) -> Summary {
        self.shared.store.read().unwrap().summary()
    }

    pub fn spec(&self) -> InstallationSpec {
        self.shared.store.read().unwrap().spec().clone()
    }

    /// Regenerates the installation from scratch, dropping all edits.
    pub fn set_installation(&self, spec: InstallationSpec) -> Result<(), MockError> {
        spec.validate().map_err(MockError::InvalidSpec)?;
        let mut store = self.shared.store.write().unwrap();
        let base = store.template_url_base().to_owned();
        *store = Store::new(spec);
        store.set_template_url_base(base);
        Ok(())
    }

    /// Points the custom-template URLs of the synthetic (cluster) component types at
    /// `<url>/templates/<name>/template.yaml`, which this mock answers (`url` is the
    /// mock's own, [`MockServer::url`]), so a demo or test reads them without a network.
    pub fn serve_templates(&self, url: &str) {
        let base = format!("{}/templates", url.trim_end_matches('/'));
        self.shared
            .store
            .write()
            .unwrap()
            .set_template_url_base(base);
    }

    // ---- edits ----

    pub fn namespaces(&self) -> Vec<String> {
        self.shared.store.read().unwrap().namespace_names()
    }

    pub fn get_namespace(&self, name: &str) -> Option<Value> {
        self.shared.store.read().unwrap().get_namespace(name)
    }

    /// Adds (empty) or replaces (keeping its content) the namespace `metadata.name`.
    pub fn put_namespace(&self, item: Value) -> Result<(), MockError> {
        let name = item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or_else(|| MockError::InvalidItem("metadata.name is missing".into()))?
            .to_owned();
        self.shared
            .store
            .write()
            .unwrap()
            .put_namespace(&name, Some(item))
            .map(drop)
    }

    /// Adds an empty namespace with a default item (or keeps an existing one as is).
    pub fn add_namespace(&self, name: &str) -> Result<(), MockError> {
        self.shared
            .store
            .write()
            .unwrap()
            .put_namespace(name, None)
            .map(drop)
    }

    /// Removes a namespace and everything in it; false if there was none.
    pub fn delete_namespace(&self, name: &str) -> bool {
        self.shared.store.write().unwrap().delete_namespace(name)
    }

    /// Adds or replaces the item named by its `metadata.name` (fills in `apiVersion`,
    /// `kind` and `metadata.namespace` when missing). For cluster kinds pass `""` as
    /// `ns` (it is ignored); this holds for every method taking a kind and a namespace.
    pub fn put_item(&self, kind: Kind, ns: &str, item: Value) -> Result<(), MockError> {
        self.shared
            .store
            .write()
            .unwrap()
            .put(kind, ns, item)
            .map(drop)
    }

    /// Deletes an item; `Ok(false)` when there was none of that name.
    pub fn delete_item(&self, kind: Kind, ns: &str, name: &str) -> Result<bool, MockError> {
        self.shared.store.write().unwrap().delete(kind, ns, name)
    }

    /// The item as the API would serve it.
    pub fn get_item(&self, kind: Kind, ns: &str, name: &str) -> Result<Option<Value>, MockError> {
        self.shared.store.read().unwrap().get(kind, ns, name)
    }

    /// Every current name of a kind in a namespace (`""` for cluster kinds), in list
    /// order (O(N)).
    pub fn list_names(&self, kind: Kind, ns: &str) -> Result<Vec<String>, MockError> {
        self.shared.store.read().unwrap().names(kind, ns)
    }

    /// Serves a kind again (`true`) or answers 404 for its list, items and schemas
    /// (`false`), as an OpenChoreo without that kind would. Its items are kept.
    pub fn set_served(&self, kind: Kind, served: bool) {
        self.shared.store.write().unwrap().set_served(kind, served);
    }

    pub fn is_served(&self, kind: Kind) -> bool {
        self.shared.store.read().unwrap().is_served(kind)
    }

    /// The kinds currently answered 404.
    pub fn unserved_kinds(&self) -> Vec<Kind> {
        self.shared
            .store
            .read()
            .unwrap()
            .unserved()
            .iter()
            .copied()
            .collect()
    }

    /// What `GET .../{name}/schema` answers for a (cluster) component or resource type.
    pub fn get_schema(&self, kind: Kind, ns: &str, name: &str) -> Result<Option<Value>, MockError> {
        Ok(self
            .get_item(kind, ns, name)?
            .map(|item| crate::schema::parameters_schema(&item)))
    }
}

/// A mock OpenChoreo API on 127.0.0.1. Dropping it (or `shutdown`) stops it.
pub struct MockServer {
    addr: SocketAddr,
    handle: MockHandle,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    pub async fn start(opts: MockOptions) -> io::Result<MockServer> {
        opts.spec
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let handle = MockHandle::new(&opts);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(handle.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                eprintln!("mock-openchoreo: server error: {e}");
            }
        });
        Ok(MockServer {
            addr,
            handle,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn handle(&self) -> MockHandle {
        self.handle.clone()
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn router(handle: MockHandle) -> Router {
    Router::new()
        .route("/health", get(|| async { "OK" }))
        .route("/ready", get(|| async { "Ready" }))
        .route("/version", get(version))
        .route("/oauth2/token", axum::routing::post(crate::oauth::token))
        .merge(crate::api::router(handle.clone()))
        .merge(crate::admin::router())
        .route("/templates/{name}/template.yaml", get(authored_template))
        .fallback(crate::api::fallback)
        .with_state(handle)
}

/// What a platform team would author for a component type that names its own template
/// (any `name`); see [`MockHandle::serve_templates`]. Not counted in the stats.
async fn authored_template(
    axum::extract::Path(name): axum::extract::Path<String>,
) -> impl IntoResponse {
    let body = format!(
        "# authored by the platform team for {name}
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: {name}-authored
  title: {name} (authored)
  description: A hand-written template for {name} components
  tags: [authored]
spec:
  owner: group:default/platform-team
  type: service
  parameters:
    - title: Component
      required: [componentName]
      properties:
        componentName:
          type: string
  steps:
    - id: create
      name: Create the component
      action: openchoreo:component:create
      input:
        componentName: ${{{{ parameters.componentName }}}}
"
    );
    ([(header::CONTENT_TYPE, "application/yaml")], body)
}

async fn version() -> Json<Value> {
    Json(json!({
        "name": "openchoreo-api",
        "version": concat!("v", env!("CARGO_PKG_VERSION"), "-mock"),
        "gitRevision": "mock",
        "buildTime": "2026-01-01T00:00:00Z",
        "goOS": "linux",
        "goArch": "amd64",
        "goVersion": "go1.24.2"
    }))
}
