# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared Azure authentication and cloud options (AZURE_AUTH_SPEC in module_utils/_azure_client.py)."""

from __future__ import annotations


class ModuleDocFragment:

    # Used by modules, the lookup and the inventory plugin alike: the client layer reads the
    # environment variables itself, so plugins need no env: entries of their own.
    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - Where the credentials come from.
      - >-
        V(auto) takes the first source that applies, in this order.
        (1) V(credential_file) when O(profile) (or E(AZURE_PROFILE)) is set.
        (2) V(env), a service principal with a secret, when O(client_id), O(secret) and O(tenant) are known
        (as options or environment variables), or with a certificate when O(client_id), O(tenant) and
        O(client_certificate_path) are known.
        (3) V(workload_identity) when O(client_id), O(tenant) and O(federated_token_file) are known.
        (4) V(credential_file) with its C(default) profile when C(~/.azure/credentials) exists.
        (5) V(msi) when E(IDENTITY_ENDPOINT) or E(MSI_ENDPOINT) is set (App Service, Functions, Arc, Cloud Shell).
        (6) V(cli), the account of C(az login), when C(az) is on E(PATH).
        (7) Otherwise V(msi) through the VM's instance metadata service (IMDS).
      - V(env) uses O(client_id), O(secret) and O(tenant) (or, without a secret, O(client_certificate_path), then
        O(federated_token_file)) from the options or the environment variables listed with them.
      - V(credential_file) reads the O(profile) section of C(~/.azure/credentials), the file format of
        the C(azure.azcollection) collection. Options set on the task override the profile's values.
      - V(cli) uses the account of C(az login) (C(AzureCliCredential)); without O(subscription_id) the default
        subscription of C(az account set) is used.
      - V(msi) uses a managed identity; O(client_id) selects a user-assigned identity.
      - V(workload_identity) exchanges the token in O(federated_token_file) (Kubernetes workload identity,
        GitHub Actions OIDC) for an Entra token.
      - If not set, E(ANSIBLE_AZURE_AUTH_SOURCE) is used, else V(auto).
    type: str
    choices: [auto, env, credential_file, cli, msi, workload_identity]
  profile:
    description:
      - Section of C(~/.azure/credentials) to read, with keys C(subscription_id), C(client_id), C(secret),
        C(tenant), C(cloud_environment) and, for a certificate service principal, C(x509_certificate_path)
        (the azure.azcollection name) or C(client_certificate_path), and C(client_certificate_password).
      - If not set, E(AZURE_PROFILE) is used, else C(default) (when O(auth_source=credential_file)).
    type: str
  subscription_id:
    description:
      - The Azure subscription to work in.
      - If not set, E(AZURE_SUBSCRIPTION_ID) is used, then the profile's C(subscription_id), then
        (for V(cli)) the default subscription of the Azure CLI.
      - A GUID (C(00000000-0000-0000-0000-000000000000)); any other value fails before any request.
      - "Resources given by resource id are acted on in the subscription the id names, with the same credential,
        as C(az) does: an id under another subscription is not redirected to this one. Resources given by name
        (and resource group) are in this subscription. A subscription segment that is not a GUID fails before
        any request."
      - "An unknown subscription, or one these credentials cannot use, fails with ARM's C(SubscriptionNotFound)."
    type: str
  client_id:
    description:
      - Application (client) id of the service principal, or of a user-assigned managed identity.
      - If not set, E(AZURE_CLIENT_ID) is used.
    type: str
  secret:
    description:
      - Client secret of the service principal. Never logged or returned.
      - If not set, E(AZURE_CLIENT_SECRET) is used, then E(AZURE_SECRET) (the azure.azcollection name).
    type: str
  client_certificate_path:
    description:
      - A certificate service principal's certificate and private key, one PEM (or PKCS#12) file, as
        C(az ad sp create-for-rbac --create-cert) writes it. azure-identity's C(CertificateCredential) signs each
        token request with it; the certificate must be registered on the application.
      - Used instead of O(secret) when no secret is known.
      - If not set, E(AZURE_CLIENT_CERTIFICATE_PATH) is used (azure-identity's name), then
        E(AZURE_X509_CERTIFICATE_PATH) (the azure.azcollection name).
      - A file that does not exist or cannot be read fails before any request, naming this option.
    type: path
  client_certificate_password:
    description:
      - Password of the private key in O(client_certificate_path), when it is encrypted. Never logged or returned.
      - If not set, E(AZURE_CLIENT_CERTIFICATE_PASSWORD) is used.
    type: str
  tenant:
    description:
      - Directory (tenant) id.
      - If not set, E(AZURE_TENANT_ID) is used, then E(AZURE_TENANT) (the azure.azcollection name).
    type: str
  federated_token_file:
    description:
      - File holding a federated (OIDC) token for O(auth_source=workload_identity). It is read again whenever a new
        Entra token is needed, so a rotating projected token works.
      - If not set, E(AZURE_FEDERATED_TOKEN_FILE) is used.
    type: path
  cloud_environment:
    description:
      - The Azure cloud. V(AzureCloud), V(AzureChinaCloud), V(AzureUSGovernment), or the https URL of a
        custom cloud's Resource Manager, whose C(/metadata/endpoints) is read as C(az cloud register) does.
      - O(arm_endpoint) and O(authority_host) override the cloud's endpoints; with both set no metadata request is made.
      - If not set, E(AZURE_CLOUD_ENVIRONMENT) is used, else V(AzureCloud). When only O(arm_endpoint) points at a
        custom cloud, its metadata supplies the authority.
    type: str
  arm_endpoint:
    description:
      - Azure Resource Manager URL, for example V(https://management.azure.com/). The token scope is this URL
        followed by C(.default).
      - If not set, E(AZURE_ARM_ENDPOINT) is used, else the cloud's.
    type: str
  authority_host:
    description:
      - Entra ID (Azure AD) authority, for example V(https://login.microsoftonline.com).
      - If not set, E(AZURE_AUTHORITY_HOST) is used, else the cloud's.
    type: str
  disable_instance_discovery:
    description:
      - Skip Entra instance discovery, needed for authorities that are not well known (Azure Stack, private clouds,
        a local simulator) when C(login.microsoftonline.com) cannot be reached.
      - If not set, E(AZURE_DISABLE_INSTANCE_DISCOVERY) is used (V(true)/V(false), V(yes)/V(no), V(1)/V(0);
        V(false) really means false). If neither is set, discovery is disabled exactly when the authority is not
        a well-known Microsoft login host.
    type: bool
notes:
  - TLS is always verified. A private CA bundle is taken from E(REQUESTS_CA_BUNDLE) (or E(CURL_CA_BUNDLE)) and passed
    to every credential and client explicitly.
  - Proxies follow E(HTTPS_PROXY) and E(NO_PROXY).
  - One credential is shared by every client of a task, so a task requests at most one token per scope.
requirements:
  - python >= 3.10
  - azure-identity >= 1.19.0
  - azure-core >= 1.31.0
  - azure-mgmt-compute >= 38.0.0 (modules that use the Compute SDK)
seealso:
  - name: Authenticate Python apps to Azure services
    description: The credentials azure-identity offers, which O(auth_source) selects from.
    link: https://learn.microsoft.com/azure/developer/python/sdk/authentication/overview
"""
