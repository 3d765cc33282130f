"""EKS REST routes that moto 5.2.5 lacks (all dispatched to EKSResponse methods by name)."""
import moto.eks.urls as eks_urls

d = eks_urls.response.dispatch
eks_urls.url_paths.update(
    {
        "{0}/addons/supported-versions$": d,
        "{0}/clusters/(?P<name>[^/]+)/addons$": d,
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$": d,
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)/update$": d,
        "{0}/clusters/(?P<name>[^/]+)/access-entries$": d,
        "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)$": d,
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$": d,
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<associationId>[^/]+)$": d,
        "{0}/clusters/(?P<name>[^/]+)/updates$": d,
        "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$": d,
    }
)

eks_urls.url_paths.update(
    {
        "{0}/cluster-versions$": d,
        "{0}/access-policies$": d,
        "{0}/addons/configuration-schemas$": d,
        "{0}/clusters/(?P<name>[^/]+)/encryption-config/associate$": d,
        "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": d,
    }
)
