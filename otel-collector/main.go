// Command otelcol-carbonscope is the OpenTelemetry Collector with exactly the components that
// config.yaml uses, every module at one release (go.mod), so the tests and `npm run otelcol` run
// the real Collector. tools/otelcol.sh builds it once and caches the binary outside the repository.
package main

import (
	"log"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension"
)

// version is the Collector release of go.mod, set by tools/otelcol.sh at build time.
var version = "unknown"

func main() {
	settings := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol-carbonscope",
			Description: "OpenTelemetry Collector with the components of carbonscope's config.yaml",
			Version:     version,
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					fileprovider.NewFactory(),
					envprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
			},
		},
	}
	if err := otelcol.NewCommand(settings).Execute(); err != nil {
		log.Fatal(err)
	}
}

// byType keys factories by their component type, as otelcol.Factories wants them.
func byType[F interface{ Type() component.Type }](factories ...F) map[component.Type]F {
	out := make(map[component.Type]F, len(factories))
	for _, f := range factories {
		out[f.Type()] = f
	}
	return out
}

func components() (otelcol.Factories, error) {
	return otelcol.Factories{
		Receivers: byType[receiver.Factory](otlpreceiver.NewFactory()),
		Processors: byType[processor.Factory](
			memorylimiterprocessor.NewFactory(),
			batchprocessor.NewFactory(),
		),
		Exporters:  byType[exporter.Factory](prometheusexporter.NewFactory(), debugexporter.NewFactory()),
		Extensions: byType[extension.Factory](healthcheckextension.NewFactory()),
		// The Collector's own logs and metrics (service::telemetry in config.yaml).
		Telemetry: otelconftelemetry.NewFactory(),
	}, nil
}
